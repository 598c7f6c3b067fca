using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Herald.Engine;

namespace Herald.Channels;

/// <summary>
/// The positions of several channels as one opaque, URL-safe token: what every transport hands out
/// and accepts to resume (SSE <c>id:</c>/<c>Last-Event-ID</c>, the stream's and the long poll's
/// <c>cursor</c>). Base64url of: a version byte, then per channel a 32-bit FNV-1a hash of its name,
/// the epoch (length-prefixed ASCII) and the offset (LEB128). About 15 bytes per channel, so a
/// three-channel cursor is about 62 characters.
/// </summary>
public static class Cursor
{
    private const byte Version = 1;

    /// <summary>4 KiB of token: 250+ channels, far above any sensible subscription list.</summary>
    public const int MaxLength = 4096;

    public static string Encode(IReadOnlyList<KeyValuePair<string, Position>> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var size = 1;
        foreach (var (_, position) in positions)
            size += 4 + 1 + position.Epoch.Length + 10;

        var buffer = size <= 512 ? stackalloc byte[size] : new byte[size];
        var length = Write(buffer, positions);
        return Base64Url.EncodeToString(buffer[..length]);
    }

    public static string Encode(string channel, Position position) => Encode([new(channel, position)]);

    /// <summary>
    /// Reads a token into positions keyed by the requested channel names. A requested channel the
    /// cursor does not name gets no entry (the caller starts it from now); a cursor naming a
    /// channel that was not requested is refused — unless <paramref name="ignoreOthers"/>, then it is
    /// skipped — as is any malformed token.
    /// </summary>
    public static bool TryDecode(string? token, IReadOnlyList<string> channels, out Dictionary<string, Position> positions, [NotNullWhen(false)] out string? error, bool ignoreOthers = false)
    {
        ArgumentNullException.ThrowIfNull(channels);
        positions = new Dictionary<string, Position>(StringComparer.Ordinal);
        error = null;
        if (string.IsNullOrEmpty(token))
            return true;
        if (token.Length > MaxLength)
        {
            error = $"The cursor is longer than {MaxLength} characters.";
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            error = "The cursor is not a token Herald issued (not base64url).";
            return false;
        }

        if (bytes.Length == 0 || bytes[0] != Version)
        {
            error = "The cursor is not a token Herald issued (unknown version).";
            return false;
        }

        var byHash = new Dictionary<uint, string>();
        foreach (var channel in channels)
            byHash.TryAdd(Hash(channel), channel);

        ReadOnlySpan<byte> span = bytes.AsSpan(1);
        while (!span.IsEmpty)
        {
            if (!TryReadEntry(ref span, out var hash, out var epoch, out var offset))
            {
                error = "The cursor is truncated or corrupt.";
                return false;
            }

            if (!byHash.TryGetValue(hash, out var channel))
            {
                if (ignoreOthers)
                    continue;

                error = "The cursor names a channel that this request does not subscribe to: resume with the same channels.";
                return false;
            }

            positions[channel] = new Position(epoch, offset);
        }

        return true;
    }

    private static int Write(Span<byte> buffer, IReadOnlyList<KeyValuePair<string, Position>> positions)
    {
        buffer[0] = Version;
        var at = 1;
        foreach (var (channel, position) in positions)
            at += WriteEntry(buffer[at..], channel, position);
        return at;
    }

    private static bool TryReadEntry(ref ReadOnlySpan<byte> span, out uint hash, out string epoch, out long offset)
    {
        hash = 0;
        epoch = string.Empty;
        offset = 0;
        if (span.Length < 6)
            return false;
        hash = BinaryPrimitives.ReadUInt32LittleEndian(span);
        int epochLength = span[4];
        if (span.Length < 5 + epochLength + 1)
            return false;
        var epochBytes = span.Slice(5, epochLength);
        foreach (var b in epochBytes)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_'))
                return false;
        }

        epoch = Encoding.ASCII.GetString(epochBytes);
        span = span[(5 + epochLength)..];

        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (span.IsEmpty)
                return false;
            var b = span[0];
            span = span[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                offset = (long)value;
                return offset >= 0;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the same token as <see cref="Encode(IReadOnlyList{KeyValuePair{string, Position}})"/>, as
    /// ASCII bytes, into <paramref name="output"/> without allocating: the push transports write a
    /// cursor in front of every publication (SSE <c>id:</c>, the stream's <c>cursor</c>).
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    public static int EncodeToUtf8(ReadOnlySpan<KeyValuePair<string, Position>> positions, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var size = 1;
        foreach (var (_, position) in positions)
            size += 4 + 1 + position.Epoch.Length + 10;

        byte[]? rented = null;
        var buffer = size <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(size));
        try
        {
            buffer[0] = Version;
            var at = 1;
            foreach (var (channel, position) in positions)
                at += WriteEntry(buffer[at..], channel, position);

            var encodedLength = Base64Url.GetEncodedLength(at);
            var destination = output.GetSpan(encodedLength);
            var written = Base64Url.EncodeToUtf8(buffer[..at], destination);
            output.Advance(written);
            return written;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int WriteEntry(Span<byte> buffer, string channel, Position position)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, Hash(channel));
        var at = 4;
        buffer[at++] = (byte)position.Epoch.Length;
        at += Encoding.ASCII.GetBytes(position.Epoch, buffer[at..]);
        var offset = (ulong)position.Offset;
        while (offset >= 0x80)
        {
            buffer[at++] = (byte)(offset | 0x80);
            offset >>= 7;
        }

        buffer[at++] = (byte)offset;
        return at;
    }

    /// <summary>FNV-1a, 32 bits: enough to tell apart the channels of one request.</summary>
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
}
