using System.Buffers;
using System.Text.Json;
using Herald.Engine;
using Herald.Http;
using Herald.Hub;

namespace Herald.Transports.WebSocket;

/// <summary>
/// Encodes the server's replies and control pushes: one compact JSON object each, never containing
/// a raw newline, so they can share a <c>'\n'</c>-joined frame with publications.
/// </summary>
internal static class WebSocketReplies
{
    /// <summary>The heartbeat push, shared by every connection.</summary>
    public static ReadOnlyMemory<byte> Ping { get; } = "{\"type\":\"ping\"}"u8.ToArray();

    /// <param name="typing">The namespace's policy when it enables typing: its timings are announced, so clients cannot disagree.</param>
    public static ReadOnlyMemory<byte> Subscribed(RequestId id, string channel, SubscribeResult result, Channels.ChannelPolicy? typing = null)
    {
        var (buffer, writer) = Start(id, "subscribed", 128);
        writer.WriteString("channel"u8, channel);
        writer.WriteBoolean("recovered"u8, result.Recovered);
        writer.WriteString("epoch"u8, result.State.Epoch);
        writer.WriteNumber("offset"u8, result.State.Top);
        writer.WriteNumber("n"u8, result.State.N);
        if (typing is not null)
        {
            writer.WriteStartObject("typing"u8);
            writer.WriteNumber("resend"u8, (long)typing.TypingResend.TotalMilliseconds);
            writer.WriteNumber("idle"u8, (long)typing.TypingIdle.TotalMilliseconds);
            writer.WriteNumber("expire"u8, (long)typing.TypingExpire.TotalMilliseconds);
            writer.WriteEndObject();
        }

        return Finish(buffer, writer);
    }

    /// <summary>A <c>typing</c> or <c>typing_stop</c> was taken: the channel's subscribers get the set if it changed.</summary>
    public static ReadOnlyMemory<byte> TypingSet(RequestId id, string channel, bool typing)
    {
        var (buffer, writer) = Start(id, "typing_set", 96);
        writer.WriteString("channel"u8, channel);
        writer.WriteBoolean("typing"u8, typing);
        return Finish(buffer, writer);
    }

    public static ReadOnlyMemory<byte> Unsubscribed(RequestId id, string channel)
    {
        var (buffer, writer) = Start(id, "unsubscribed", 96);
        writer.WriteString("channel"u8, channel);
        return Finish(buffer, writer);
    }

    /// <summary>A signal was handed to the broker: every current subscriber of the channel (the sender's own sessions too) receives it.</summary>
    public static ReadOnlyMemory<byte> Signaled(RequestId id, string channel)
    {
        var (buffer, writer) = Start(id, "signaled", 96);
        writer.WriteString("channel"u8, channel);
        return Finish(buffer, writer);
    }

    /// <summary>The status was accepted: everyone listing the channel's presence gets it in an <c>update</c>.</summary>
    public static ReadOnlyMemory<byte> StatusSet(RequestId id, string channel)
    {
        var (buffer, writer) = Start(id, "status_set", 96);
        writer.WriteString("channel"u8, channel);
        return Finish(buffer, writer);
    }

    public static ReadOnlyMemory<byte> Published(RequestId id, Publication publication, bool duplicate)
    {
        var (buffer, writer) = Start(id, "published", 192);
        writer.WriteString("channel"u8, publication.Channel);
        writer.WriteNumber("offset"u8, publication.Offset);
        writer.WriteString("epoch"u8, publication.Epoch);
        writer.WriteString("publicationId"u8, publication.Id);
        writer.WriteString("time"u8, publication.Time.UtcDateTime);
        if (publication.Countable)
            writer.WriteNumber("n"u8, publication.N);
        if (duplicate)
            writer.WriteBoolean("duplicate"u8, true);
        return Finish(buffer, writer);
    }

    /// <summary>The same members as the HTTP history answer.</summary>
    public static ReadOnlyMemory<byte> History(RequestId id, string channel, StreamState state, IReadOnlyList<Publication> publications)
    {
        var (buffer, writer) = Start(id, "history", 256);
        PublicationEncoder.WriteHistoryMembers(writer, channel, state, publications);
        return Finish(buffer, writer);
    }

    /// <summary>A <c>view: "latest"</c> history: the same members, each message folded (<see cref="LatestViewEncoder"/>).</summary>
    public static ReadOnlyMemory<byte> LatestHistory(RequestId id, string channel, StreamState state, IReadOnlyList<Publishing.LatestMessage> messages)
    {
        var (buffer, writer) = Start(id, "history", 256);
        LatestViewEncoder.WriteHistoryMembers(writer, channel, state, messages);
        return Finish(buffer, writer);
    }

    public static ReadOnlyMemory<byte> Pong(RequestId id)
    {
        var (buffer, writer) = Start(id, "pong", 32);
        return Finish(buffer, writer);
    }

    /// <summary>The reply to a summary subscribe: the channel's state now; the summaries that follow carry the same members.</summary>
    public static ReadOnlyMemory<byte> SummarySubscribed(RequestId id, string channel, StreamState state)
    {
        var (buffer, writer) = Start(id, "subscribed", 128);
        writer.WriteString("channel"u8, channel);
        writer.WriteString("mode"u8, "summary"u8);
        writer.WriteBoolean("recovered"u8, false);
        writer.WriteString("epoch"u8, state.Epoch);
        writer.WriteNumber("offset"u8, state.Top);
        writer.WriteNumber("n"u8, state.N);
        return Finish(buffer, writer);
    }

    /// <summary><c>{"type":"read","channel",…}</c>: the channel's unread count after a <c>read</c> op, with the marker stored.</summary>
    public static ReadOnlyMemory<byte> Read(RequestId id, Reading.ChannelUnread unread, bool changed)
    {
        var (buffer, writer) = Start(id, "read", 192);
        writer.WriteBoolean("changed"u8, changed);
        writer.WritePropertyName("state"u8);
        JsonSerializer.Serialize(writer, Reading.UnreadChannelJson.From(unread), Reading.ReadingJsonContext.Default.UnreadChannelJson);
        return Finish(buffer, writer);
    }

    /// <summary>The <c>delivered</c> op's reply: whether the marker moved, and the marker stored (absent when the channel was never written).</summary>
    public static ReadOnlyMemory<byte> Delivered(RequestId id, string channel, Reading.ReadMarker? marker, bool changed)
    {
        var (buffer, writer) = Start(id, "delivered", 160);
        writer.WriteString("channel"u8, channel);
        writer.WriteBoolean("changed"u8, changed);
        if (marker is not null)
        {
            writer.WritePropertyName("delivered"u8);
            JsonSerializer.Serialize(writer, new Reading.ReadMarkerJson(marker.Epoch, marker.Offset, marker.N, marker.UpdatedAt.UtcDateTime), Reading.ReadingJsonContext.Default.ReadMarkerJson);
        }

        return Finish(buffer, writer);
    }

    public static ReadOnlyMemory<byte> Error(RequestId id, string code, string message, string? canonical = null)
    {
        var (buffer, writer) = Start(id, "error", 160);
        writer.WriteString("code"u8, code);
        writer.WriteString("message"u8, message);
        if (canonical is not null)
            writer.WriteString("canonical"u8, canonical);
        return Finish(buffer, writer);
    }

    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer) Start(RequestId id, string type, int sizeHint)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        id.WriteTo(writer);
        writer.WriteString("type"u8, type);
        return (buffer, writer);
    }

    private static ReadOnlyMemory<byte> Finish(ArrayBufferWriter<byte> buffer, Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.Flush();
        writer.Dispose();

        // Stored data is compact, but a publication that reached the log another way could carry a
        // raw line break inside data; it would split the frame, so such a reply is re-written.
        if (buffer.WrittenSpan.IndexOfAny((byte)'\n', (byte)'\r') < 0)
            return buffer.WrittenMemory;

        var compact = new ArrayBufferWriter<byte>(buffer.WrittenCount);
        using (var rewriter = new Utf8JsonWriter(compact))
        using (var document = JsonDocument.Parse(buffer.WrittenMemory))
            document.RootElement.WriteTo(rewriter);
        return compact.WrittenMemory;
    }
}
