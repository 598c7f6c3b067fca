using System.Buffers.Text;
using System.Text;

namespace Herald.ClientBench;

/// <summary>Publications exactly as Herald's push transports encode them (docs/protocol.md), numbered from 1.</summary>
internal static class Wire
{
    public const string Channel = "bench:feed";
    public const string Epoch = "benchEp1";

    // One realistic chat line: sender, kind and a short text, ~230 bytes on the wire like Herald's own.
    private static readonly byte[] Head = Encoding.UTF8.GetBytes($"{{\"type\":\"publication\",\"channel\":\"{Channel}\",\"offset\":");
    private static readonly byte[] Tail = Encoding.UTF8.GetBytes(
        $",\"epoch\":\"{Epoch}\",\"id\":\"01a236bc66bf7bddbfe8af9e361f3692\",\"time\":\"2026-12-02T12:30:46.463Z\",\"from\":\"alice\",\"msgType\":\"message\",\"data\":{{\"text\":\"hello from the feeder, a chat line of ordinary length\",\"n\":");

    /// <summary>Writes publication <paramref name="offset"/> (its data's <c>n</c> is the offset too) and returns the bytes written.</summary>
    public static int Publication(Span<byte> buffer, long offset)
    {
        Head.CopyTo(buffer);
        var at = Head.Length;
        Utf8Formatter.TryFormat(offset, buffer[at..], out var written);
        at += written;
        Tail.CopyTo(buffer[at..]);
        at += Tail.Length;
        Utf8Formatter.TryFormat(offset, buffer[at..], out written);
        at += written;
        buffer[at++] = (byte)'}';
        buffer[at++] = (byte)'}';
        return at;
    }

    /// <summary>NDJSON's publication line: the connection's cursor first (fixed here: the client does not need it).</summary>
    public static int StreamLine(Span<byte> buffer, long offset)
    {
        var prefix = "{\"cursor\":\"AQAAAAAIYmVuY2hFcDEB\","u8;
        prefix.CopyTo(buffer);
        // Publication() starts with '{': overwrite it with the rest of the object.
        var written = Publication(buffer[(prefix.Length - 1)..], offset);
        buffer[prefix.Length - 1] = (byte)',';
        return prefix.Length - 1 + written;
    }
}
