using System.Text;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// An ephemeral event (a signal) framed once per <see cref="WireFormat"/> and shared by every
/// recipient. Its payload is already the JSON object clients receive; SSE names the event after its
/// kind and gives it no <c>id:</c>, so it never moves a client's resume position.
/// </summary>
internal sealed class EncodedEvent(ChannelEvent channelEvent)
{
    private byte[]? _sse;
    private byte[]? _ndjson;

    public ChannelEvent Event { get; } = channelEvent;

    public ReadOnlyMemory<byte> GetBytes(WireFormat format) => format switch
    {
        WireFormat.Json => Event.Payload,
        WireFormat.Sse => _sse ??= Frame("event: " + Event.Kind + "\ndata: ", Event.Payload, "\n\n"),
        WireFormat.Ndjson => _ndjson ??= Frame(string.Empty, Event.Payload, "\n"),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown wire format."),
    };

    // The payload is compact JSON: no raw newline can break the SSE data line or the NDJSON line.
    private static byte[] Frame(string before, ReadOnlyMemory<byte> payload, string after)
    {
        var head = Encoding.UTF8.GetBytes(before);
        var tail = Encoding.UTF8.GetBytes(after);
        var bytes = new byte[head.Length + payload.Length + tail.Length];
        head.CopyTo(bytes, 0);
        payload.Span.CopyTo(bytes.AsSpan(head.Length));
        tail.CopyTo(bytes, head.Length + payload.Length);
        return bytes;
    }
}
