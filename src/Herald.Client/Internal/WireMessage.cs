using System.Text.Json;

namespace Herald.Client.Internal;

/// <summary>The kinds of message the push transports and the WebSocket carry (the <c>type</c> member).</summary>
internal enum MessageType
{
    Unknown,
    Publication,
    Subscribed,
    Unsubscribed,
    Published,
    History,
    Error,
    Ping,
    Pong,
    Heartbeat,
    Disconnect,

    /// <summary>Presence, typing and signals: routed to the subscription of their channel.</summary>
    ChannelEvent,
}

/// <summary>
/// One received message, read in a single pass with <see cref="Utf8JsonReader"/> and no allocation
/// but the strings a publication needs (and those are cached: a connection sees few channels,
/// epochs, senders and kinds). Members stay as spans of the received buffer until a subscription
/// accepts the publication.
/// </summary>
internal ref struct WireMessage
{
    public MessageType Type;
    public string? Channel;
    public long Offset;
    public ReadOnlySpan<byte> Epoch;
    public ReadOnlySpan<byte> Id;
    public DateTimeOffset Time;
    public string? From;
    public string? MsgType;
    public ReadOnlySpan<byte> Meta;
    public ReadOnlySpan<byte> Data;
    public bool HasData;
    public long? RequestId;
    public string? RequestIdText;
    public bool Recovered;
    public bool HasRecovered;
    public int Code;
    public TypingTimings? Typing;
}

/// <summary>Reads messages; one per connection, so its string caches follow what that connection carries.</summary>
internal sealed class WireParser
{
    private readonly string?[] channels = new string?[8];
    private int nextChannel;
    private string? lastFrom;
    private string? lastType;

    /// <summary>Reads one JSON object. Throws <see cref="JsonException"/> on malformed JSON.</summary>
    public void Parse(ReadOnlySpan<byte> json, out WireMessage message)
    {
        message = default;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            switch (name.Length)
            {
                case 4 when name.SequenceEqual("type"u8):
                    message.Type = TypeOf(ref reader);
                    break;
                case 7 when name.SequenceEqual("channel"u8):
                    message.Channel = Channel(ref reader);
                    break;
                case 6 when name.SequenceEqual("offset"u8):
                    message.Offset = reader.GetInt64();
                    break;
                case 5 when name.SequenceEqual("epoch"u8):
                    message.Epoch = reader.ValueSpan;
                    break;
                case 2 when name.SequenceEqual("id"u8):
                    if (reader.TokenType == JsonTokenType.Number)
                        message.RequestId = reader.GetInt64();
                    else
                        message.Id = reader.ValueSpan;
                    break;
                case 4 when name.SequenceEqual("time"u8):
                    message.Time = reader.GetDateTimeOffset();
                    break;
                case 4 when name.SequenceEqual("from"u8):
                    message.From = reader.TokenType == JsonTokenType.String ? Cached(ref reader, ref lastFrom) : null;
                    break;
                case 7 when name.SequenceEqual("msgType"u8):
                    message.MsgType = reader.TokenType == JsonTokenType.String ? Cached(ref reader, ref lastType) : null;
                    break;
                case 4 when name.SequenceEqual("meta"u8):
                    reader.Skip();
                    message.Meta = json[start..(int)reader.BytesConsumed];
                    break;
                case 4 when name.SequenceEqual("data"u8):
                    reader.Skip();
                    message.Data = json[start..(int)reader.BytesConsumed];
                    message.HasData = true;
                    break;
                case 9 when name.SequenceEqual("recovered"u8):
                    message.Recovered = reader.GetBoolean();
                    message.HasRecovered = true;
                    break;
                case 6 when name.SequenceEqual("typing"u8) && reader.TokenType == JsonTokenType.StartObject:
                    message.Typing = Timings(ref reader);
                    break;
                case 4 when name.SequenceEqual("code"u8):
                    if (reader.TokenType == JsonTokenType.Number)
                        message.Code = reader.GetInt32();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private static MessageType TypeOf(ref Utf8JsonReader reader)
    {
        var v = reader.ValueSpan;
        return v.Length switch
        {
            11 when v.SequenceEqual("publication"u8) => MessageType.Publication,
            10 when v.SequenceEqual("subscribed"u8) => MessageType.Subscribed,
            12 when v.SequenceEqual("unsubscribed"u8) => MessageType.Unsubscribed,
            9 when v.SequenceEqual("published"u8) => MessageType.Published,
            7 when v.SequenceEqual("history"u8) => MessageType.History,
            5 when v.SequenceEqual("error"u8) => MessageType.Error,
            4 when v.SequenceEqual("ping"u8) => MessageType.Ping,
            4 when v.SequenceEqual("pong"u8) => MessageType.Pong,
            9 when v.SequenceEqual("heartbeat"u8) => MessageType.Heartbeat,
            10 when v.SequenceEqual("disconnect"u8) => MessageType.Disconnect,
            8 when v.SequenceEqual("presence"u8) => MessageType.ChannelEvent,
            14 when v.SequenceEqual("presence_state"u8) || v.SequenceEqual("presence_count"u8) => MessageType.ChannelEvent,
            17 when v.SequenceEqual("presence_snapshot"u8) => MessageType.ChannelEvent,
            6 when v.SequenceEqual("typing"u8) || v.SequenceEqual("signal"u8) => MessageType.ChannelEvent,
            _ => MessageType.Unknown,
        };
    }

    /// <summary>The <c>typing</c> member of a WebSocket subscribe reply: <c>{"resend","idle","expire"}</c> in milliseconds.</summary>
    private static TypingTimings Timings(ref Utf8JsonReader reader)
    {
        long resend = 0, idle = 0, expire = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "resend")
                resend = reader.GetInt64();
            else if (name == "idle")
                idle = reader.GetInt64();
            else if (name == "expire")
                expire = reader.GetInt64();
            else
                reader.Skip();
        }

        return new TypingTimings(TimeSpan.FromMilliseconds(resend), TimeSpan.FromMilliseconds(idle), TimeSpan.FromMilliseconds(expire));
    }

    private string Channel(ref Utf8JsonReader reader)
    {
        foreach (var known in channels)
        {
            if (known is not null && reader.ValueTextEquals(known))
                return known;
        }

        var channel = reader.GetString()!;
        channels[nextChannel] = channel;
        nextChannel = (nextChannel + 1) % channels.Length;
        return channel;
    }

    private static string Cached(ref Utf8JsonReader reader, ref string? last)
    {
        if (last is not null && reader.ValueTextEquals(last))
            return last;
        return last = reader.GetString()!;
    }
}
