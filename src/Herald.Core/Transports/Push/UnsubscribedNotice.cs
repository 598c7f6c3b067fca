using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Herald.Hub;

namespace Herald.Transports.Push;

/// <summary>
/// A server-initiated unsubscribe as it waits in the session's queue, behind the channel's last
/// publications: the transport drops the channel from the connection's cursor when its writer
/// reaches it, then writes the <c>unsubscribed</c> message with that cursor — so a client that
/// resumes with the newest cursor and without the channel is not refused for naming it.
/// </summary>
/// <remarks>Recognized like <see cref="SubscribeReply"/>; rare, so the allocation does not matter.</remarks>
internal sealed class UnsubscribedNotice : MemoryManager<byte>
{
    // Counts toward the session's byte budget about what the rendered message costs.
    private readonly byte[] _placeholder;

    private UnsubscribedNotice(string channel)
    {
        Channel = channel;
        _placeholder = new byte[64 + channel.Length];
    }

    public string Channel { get; }

    /// <summary>The message to queue (<see cref="Session.TrySend"/>) once the session is unsubscribed from <paramref name="channel"/>.</summary>
    public static ReadOnlyMemory<byte> For(string channel) => new UnsubscribedNotice(channel).Memory;

    public static bool TryGet(ReadOnlyMemory<byte> message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out UnsubscribedNotice? notice) =>
        MemoryMarshal.TryGetMemoryManager(message, out notice);

    /// <summary><c>{"channel":"…","reason":"server unsubscribe","cursor":"…"}</c>, with <c>"type":"unsubscribed"</c> first when <paramref name="typed"/>.</summary>
    public static void WriteJson(PipeWriter output, CursorTracker cursor, string channel, bool typed)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(cursor);

        // A valid channel name needs no JSON escaping: its alphabet is A-Z a-z 0-9 _ - . = @ ~ and ':'.
        output.Write(typed ? "{\"type\":\"unsubscribed\",\"channel\":\""u8 : "{\"channel\":\""u8);
        output.Write(System.Text.Encoding.ASCII.GetBytes(channel));
        output.Write("\",\"reason\":\""u8);
        output.Write(System.Text.Encoding.ASCII.GetBytes(UserControl.ServerUnsubscribeReason));
        output.Write("\",\"cursor\":\""u8);
        cursor.WriteTo(output);
        output.Write("\"}"u8);
    }

    public override Span<byte> GetSpan() => _placeholder;

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
