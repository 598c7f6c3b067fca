using System.Buffers.Binary;
using System.Security.Cryptography;
using Herald.Engine;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    /// <summary>
    /// UUIDv7 ids (RFC 9562) as 32 lowercase hex digits, like <c>Guid.CreateVersion7().ToString("N")</c>,
    /// but drawing randomness from a 4 KiB buffer: Guid.CreateVersion7 makes one getrandom syscall per
    /// id, which showed up as ~3% of the writer's time at 100,000 appends/s. Used by the writer loop only.
    /// </summary>
    private sealed class IdGenerator
    {
        private const int RandomBytesPerId = 10;
        private readonly byte[] random = new byte[4096];
        private int used = int.MaxValue;

        public string Next(long unixMs)
        {
            if (used > random.Length - RandomBytesPerId)
            {
                RandomNumberGenerator.Fill(random);
                used = 0;
            }

            Span<byte> id = stackalloc byte[16];
            BinaryPrimitives.WriteInt64BigEndian(id, unixMs << 16);
            random.AsSpan(used, RandomBytesPerId).CopyTo(id[6..]);
            used += RandomBytesPerId;
            id[6] = (byte)(0x70 | (id[6] & 0x0F));
            id[8] = (byte)(0x80 | (id[8] & 0x3F));
            return Convert.ToHexStringLower(id);
        }
    }
}
