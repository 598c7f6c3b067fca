using System.Buffers.Binary;
using System.Text;

namespace Herald.Client;

/// <summary>
/// Herald's cursor token (docs/protocol.md, "The cursor", version 1): base64url without padding of a
/// version byte 1, then per channel the FNV-1a hash of its name, the epoch and the offset. Lets positions
/// move between transports and processes (<c>herald tail --cursor</c>).
/// </summary>
public static class HeraldCursor
{
    /// <summary>Encodes the positions of channels as one cursor token.</summary>
    public static string Encode(IEnumerable<KeyValuePair<string, Position>> positions)
    {
        var bytes = new List<byte>(32) { 1 };
        Span<byte> hash = stackalloc byte[4];
        foreach (var (channel, position) in positions)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(hash, Hash(channel));
            foreach (var b in hash)
                bytes.Add(b);
            if (position.Epoch.Length > 255)
                throw new ArgumentException("An epoch is at most 255 characters.", nameof(positions));
            bytes.Add((byte)position.Epoch.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(position.Epoch));
            var offset = (ulong)position.Offset;
            while (offset >= 0x80)
            {
                bytes.Add((byte)(offset | 0x80));
                offset >>= 7;
            }

            bytes.Add((byte)offset);
        }

        return Convert.ToBase64String(bytes.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Decodes a cursor for the given channels: the position of each channel it names. Throws
    /// <see cref="HeraldException"/> <c>invalid_cursor</c> when it is corrupt or names another channel (as the server would).
    /// </summary>
    public static IReadOnlyDictionary<string, Position> Decode(string cursor, IEnumerable<string> channels)
    {
        var byHash = new Dictionary<uint, string>();
        foreach (var channel in channels)
            byHash[Hash(channel)] = channel;
        byte[] bytes;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            bytes = Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
        }
        catch (FormatException e)
        {
            throw new HeraldException("invalid_cursor", "The cursor is not base64url.", null, e);
        }

        if (bytes.Length == 0 || bytes[0] != 1)
            throw new HeraldException("invalid_cursor", "The cursor is not a version 1 Herald cursor.");
        var positions = new Dictionary<string, Position>();
        var at = 1;
        while (at < bytes.Length)
        {
            if (at + 5 > bytes.Length)
                throw Corrupt();
            var hash = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            int length = bytes[at + 4];
            at += 5;
            if (at + length > bytes.Length)
                throw Corrupt();
            var epoch = Encoding.ASCII.GetString(bytes, at, length);
            at += length;
            ulong offset = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (at >= bytes.Length || shift > 63)
                    throw Corrupt();
                var b = bytes[at++];
                offset |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                    break;
            }

            if (!byHash.TryGetValue(hash, out var channel))
                throw new HeraldException("invalid_cursor", "The cursor names a channel that is not asked for: resume with the same channels.");
            positions[channel] = new Position(epoch, (long)offset);
        }

        return positions;
    }

    /// <summary>FNV-1a over the UTF-16 code units of the name, as the server hashes a .NET string.</summary>
    internal static uint Hash(string channel)
    {
        var hash = 2166136261u;
        foreach (var c in channel)
        {
            hash ^= c;
            hash *= 16777619u;
        }

        return hash;
    }

    private static HeraldException Corrupt() => new("invalid_cursor", "The cursor is truncated or corrupt.");
}
