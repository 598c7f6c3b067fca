using System.Buffers.Text;
using System.Security.Cryptography;

namespace Herald.Engine;

/// <summary>Names for generations of a channel's log.</summary>
public static class Epochs
{
    /// <summary>8 URL-safe characters from 48 random bits: short in a cursor, and a collision between two generations of one channel is a 1 in 2^48 event.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }
}
