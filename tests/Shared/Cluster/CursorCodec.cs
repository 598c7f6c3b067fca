using System.Buffers.Text;
using System.Text;

namespace Herald.Testing.Cluster;

/// <summary>
/// Builds a Herald cursor from positions, per the version 1 layout docs/protocol.md documents as
/// stable: version byte 1, then per channel the FNV-1a hash of its name (4 bytes, little-endian),
/// the epoch (length byte, ASCII) and the offset (LEB128), all base64url without padding.
/// </summary>
public static class CursorCodec
{
    public static string Encode(IReadOnlyDictionary<string, (string Epoch, long Offset)> positions)
    {
        var bytes = new List<byte> { 1 };
        foreach (var (channel, (epoch, offset)) in positions)
        {
            var hash = 2166136261u;
            foreach (var b in Encoding.UTF8.GetBytes(channel))
                hash = (hash ^ b) * 16777619u;
            bytes.AddRange(BitConverter.GetBytes(hash));
            bytes.Add((byte)epoch.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(epoch));
            var value = (ulong)offset;
            do
            {
                var next = (byte)(value & 0x7F);
                value >>= 7;
                bytes.Add(value == 0 ? next : (byte)(next | 0x80));
            }
            while (value != 0);
        }

        return Base64Url.EncodeToString(bytes.ToArray());
    }
}
