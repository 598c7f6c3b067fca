using System.Buffers.Text;
using System.Text;
using Herald.Engine;

namespace Herald.Redis;

/// <summary>
/// What travels on a channel's pub/sub channel, as the append script writes it: <c>p</c> and a
/// committed publication, or <c>e</c> and an ephemeral event. Variable fields are length-prefixed
/// (<c>5:x3kq9</c>, byte lengths) so any bytes may appear in them; the data comes last, whole.
/// <code>
/// p &lt;len&gt;:epoch offset: &lt;len&gt;:id time: wc: n: countable(0|1): &lt;len&gt;:era &lt;len&gt;:from &lt;len&gt;:type &lt;len&gt;:meta data
/// e &lt;len&gt;:kind payload
/// </code>
/// </summary>
internal static class RedisMessageCodec
{
    /// <summary>A publication decoded from a pub/sub message, with the partition's write counter and era at its append.</summary>
    public readonly record struct Decoded(Publication? Publication, ChannelEvent? Event, long WriteCounter, string Era);

    public static bool TryDecode(string channel, ReadOnlyMemory<byte> message, out Decoded decoded)
    {
        decoded = default;
        var span = message.Span;
        if (span.IsEmpty)
            return false;

        var position = 1;
        if (span[0] == (byte)'e')
        {
            if (!TryField(span, ref position, out var kind))
                return false;
            decoded = new Decoded(null, new ChannelEvent(channel, Encoding.UTF8.GetString(kind), message[position..]), 0, string.Empty);
            return true;
        }

        if (span[0] != (byte)'p'
            || !TryField(span, ref position, out var epoch)
            || !TryNumber(span, ref position, out var offset)
            || !TryField(span, ref position, out var id)
            || !TryNumber(span, ref position, out var time)
            || !TryNumber(span, ref position, out var writeCounter)
            || !TryNumber(span, ref position, out var n)
            || !TryNumber(span, ref position, out var countable)
            || !TryField(span, ref position, out var era)
            || !TryField(span, ref position, out var from)
            || !TryField(span, ref position, out var type)
            || !TryRange(span, ref position, out var metaStart, out var metaLength))
        {
            return false;
        }

        decoded = new Decoded(
            new Publication
            {
                Channel = channel,
                Offset = offset,
                Epoch = Encoding.ASCII.GetString(epoch),
                Id = Encoding.ASCII.GetString(id),
                Time = DateTimeOffset.FromUnixTimeMilliseconds(time),
                From = from.IsEmpty ? null : Encoding.UTF8.GetString(from),
                Type = type.IsEmpty ? null : Encoding.UTF8.GetString(type),
                Meta = metaLength == 0 ? ReadOnlyMemory<byte>.Empty : message.Slice(metaStart, metaLength),
                Data = message[position..],
                N = n,
                Countable = countable == 1,
            },
            null,
            writeCounter,
            Encoding.ASCII.GetString(era));
        return true;
    }

    /// <summary>The message of an ephemeral event: <c>e</c>, the kind, the payload.</summary>
    public static byte[] EncodeEvent(ChannelEvent channelEvent)
    {
        var kind = Encoding.UTF8.GetBytes(channelEvent.Kind);
        var length = Encoding.ASCII.GetBytes(kind.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bytes = new byte[1 + length.Length + 1 + kind.Length + channelEvent.Payload.Length];
        bytes[0] = (byte)'e';
        length.CopyTo(bytes, 1);
        bytes[1 + length.Length] = (byte)':';
        kind.CopyTo(bytes, 2 + length.Length);
        channelEvent.Payload.Span.CopyTo(bytes.AsSpan(2 + length.Length + kind.Length));
        return bytes;
    }

    private static bool TryNumber(ReadOnlySpan<byte> span, ref int position, out long value)
    {
        var colon = span[position..].IndexOf((byte)':');
        if (colon <= 0 || !Utf8Parser.TryParse(span.Slice(position, colon), out value, out var consumed) || consumed != colon || value < 0)
        {
            value = 0;
            return false;
        }

        position += colon + 1;
        return true;
    }

    private static bool TryRange(ReadOnlySpan<byte> span, ref int position, out int start, out int length)
    {
        start = length = 0;
        if (!TryNumber(span, ref position, out var declared) || declared > span.Length - position)
            return false;
        start = position;
        length = (int)declared;
        position += length;
        return true;
    }

    private static bool TryField(ReadOnlySpan<byte> span, ref int position, out ReadOnlySpan<byte> field)
    {
        field = default;
        if (!TryRange(span, ref position, out var start, out var length))
            return false;
        field = span.Slice(start, length);
        return true;
    }
}
