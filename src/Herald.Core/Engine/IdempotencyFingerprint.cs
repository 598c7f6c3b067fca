using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Engine;

/// <summary>
/// What an idempotency key is remembered with, to tell a retry (same request: the original is
/// returned) from a reuse of the key for another request (Stripe answers that with an error, and
/// so does Herald: <c>422 idempotency_key_reused</c>). A retry is the same data, type and publisher;
/// the JSON is compared after compaction, so whitespace does not matter.
/// </summary>
public static class IdempotencyFingerprint
{
    /// <summary>16 bytes: a collision needs 2^64 requests, and a client that forges one only gets its own key's original back.</summary>
    public const int Length = 16;

    public static byte[] Of(AppendRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendField(hash, request.Type);
        AppendField(hash, request.From);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, request.Data.Length);
        hash.AppendData(length);
        hash.AppendData(request.Data.Span);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return digest[..Length].ToArray();
    }

    /// <summary>Whether a stored fingerprint matches; an absent one (a key stored before fingerprints) matches anything.</summary>
    public static bool Matches(ReadOnlySpan<byte> stored, ReadOnlySpan<byte> candidate) =>
        stored.IsEmpty || stored.SequenceEqual(candidate);

    private static void AppendField(IncrementalHash hash, string? value)
    {
        // Length-prefixed (-1 for absent) so that ("ab", null) and ("a", "b") differ.
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, value is null ? -1 : Encoding.UTF8.GetByteCount(value));
        hash.AppendData(length);
        if (value is not null)
            hash.AppendData(Encoding.UTF8.GetBytes(value));
    }
}
