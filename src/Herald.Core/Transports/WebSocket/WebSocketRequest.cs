using System.Buffers;
using System.Text.Json;
using Herald.Engine;

namespace Herald.Transports.WebSocket;

/// <summary>What a client asks for; see docs/protocol.md.</summary>
internal enum WebSocketOp
{
    Unknown,
    Subscribe,
    Unsubscribe,
    Publish,
    History,
    Ping,
    Pong,
    Signal,
    Status,
    Typing,
    TypingStop,
    Read,
    Delivered,
}

/// <summary>
/// A request id, echoed in the reply exactly as the client sent it: an integer or a short string.
/// </summary>
internal readonly record struct RequestId(long? Number, string? Text)
{
    /// <summary>64: a UUID with a prefix; anything longer is a client bug.</summary>
    public const int MaxTextLength = 64;

    public static RequestId None => default;

    public bool IsPresent => Number is not null || Text is not null;

    public void WriteTo(Utf8JsonWriter writer)
    {
        if (Number is { } number)
            writer.WriteNumber("id"u8, number);
        else if (Text is not null)
            writer.WriteString("id"u8, Text);
    }
}

/// <summary>
/// One client message: a JSON object with <c>op</c>, an optional <c>id</c> and the op's members.
/// Unknown members are refused (as in the HTTP publish body) so that a typo never silently drops a field.
/// </summary>
internal sealed class WebSocketRequest
{
    private static readonly HashSet<string> s_members =
        new(["id", "op", "channel", "cursor", "type", "idempotencyKey", "since", "data", "after", "limit", "reverse", "name", "presence", "presenceSince", "status", "mentions", "offset", "epoch", "unread", "mode", "view", "private", "receipts"], StringComparer.Ordinal);

    private WebSocketRequest()
    {
    }

    public RequestId Id { get; private set; }

    public WebSocketOp Op { get; private set; }

    /// <summary>The <c>op</c> member as sent (for the <c>unknown_op</c> message).</summary>
    public string? OpText { get; private set; }

    public string? Channel { get; private set; }

    public Position? Since { get; private set; }

    public string? Cursor { get; private set; }

    /// <summary>The publish payload's JSON text as sent, a slice of the message (the publish service checks and compacts it).</summary>
    public ReadOnlyMemory<byte>? Data { get; private set; }

    public string? Type { get; private set; }

    /// <summary>A signal's name.</summary>
    public string? Name { get; private set; }

    public string? IdempotencyKey { get; private set; }

    /// <summary>The presence a subscribe asks for (<c>off</c>, <c>enter</c>, <c>count</c>, <c>list</c>); null: the default.</summary>
    public Presence.PresenceMode? Presence { get; private set; }

    /// <summary>A list subscriber's presence position to resume from.</summary>
    public Presence.PresencePosition? PresenceSince { get; private set; }

    /// <summary>The <c>status</c> op's text; null clears it.</summary>
    public string? Status { get; private set; }

    public long? After { get; private set; }

    public long? Limit { get; private set; }

    public bool? Reverse { get; private set; }

    /// <summary>A subscribe's <c>mode</c>: <c>full</c> (the default) or <c>summary</c>.</summary>
    public bool Summary { get; private set; }

    /// <summary>A publish's <c>mentions</c>.</summary>
    public IReadOnlyList<string>? Mentions { get; private set; }

    /// <summary>The <c>read</c> op's offset (absent: the top).</summary>
    public long? Offset { get; private set; }

    /// <summary>The <c>read</c> op's epoch, checked against the channel's.</summary>
    public string? Epoch { get; private set; }

    /// <summary>The <c>read</c> op's <c>unread: true</c>: move the marker back ("mark unread").</summary>
    public bool MarkUnread { get; private set; }

    /// <summary>The <c>read</c> op's <c>private: true</c>: move the unread count without showing other members (no receipt).</summary>
    public bool Private { get; private set; }

    /// <summary>A subscribe's <c>receipts: true</c>: the channel's receipts snapshot, then diffs.</summary>
    public bool Receipts { get; private set; }

    /// <summary>The <c>history</c> op's view: <c>raw</c> or <c>latest</c> (checked by the op).</summary>
    public string? View { get; private set; }

    /// <summary>
    /// Parses one message. On failure <paramref name="id"/> still carries the request id when it
    /// was read before the error, so the error reply can name the request.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> utf8, out WebSocketRequest request, out RequestId id, out string error)
    {
        request = new WebSocketRequest();
        id = RequestId.None;
        try
        {
            var ok = request.Read(utf8, out error);
            id = request.Id;
            return ok;
        }
        catch (JsonException e)
        {
            id = request.Id;
            error = $"The message is not valid JSON: {e.Message}";
            return false;
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader's typed getters (GetInt64 on a fraction, GetString on a number…).
            id = request.Id;
            error = $"A member has the wrong type: {e.Message}";
            return false;
        }
    }

    private bool Read(ReadOnlyMemory<byte> utf8, out string error)
    {
        var reader = new Utf8JsonReader(utf8.Span, new JsonReaderOptions { MaxDepth = Publishing.JsonData.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            error = "A message is one JSON object: {\"id\":1,\"op\":\"...\",...}.";
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!Publishing.JsonData.TryGetString(ref reader, out var name))
            {
                error = "A member name is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).";
                return false;
            }

            reader.Read();
            // null reads as "absent", except for data, where it is the payload.
            if (reader.TokenType == JsonTokenType.Null && name != "data" && s_members.Contains(name))
                continue;

            if (!ReadMember(name, ref reader, utf8, out error))
                return false;
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            error = "A message is exactly one JSON object per line.";
            return false;
        }

        if (OpText is null)
        {
            error = "'op' is required.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private bool ReadMember(string name, ref Utf8JsonReader reader, ReadOnlyMemory<byte> utf8, out string error)
    {
        error = string.Empty;
        switch (name)
        {
            case "id":
                return ReadId(ref reader, out error);
            case "op":
                OpText = RequireString(ref reader, name, out error);
                Op = OpText switch
                {
                    "subscribe" => WebSocketOp.Subscribe,
                    "unsubscribe" => WebSocketOp.Unsubscribe,
                    "publish" => WebSocketOp.Publish,
                    "history" => WebSocketOp.History,
                    "ping" => WebSocketOp.Ping,
                    "pong" => WebSocketOp.Pong,
                    "signal" => WebSocketOp.Signal,
                    "status" => WebSocketOp.Status,
                    "typing" => WebSocketOp.Typing,
                    "typing_stop" => WebSocketOp.TypingStop,
                    "read" => WebSocketOp.Read,
                    "delivered" => WebSocketOp.Delivered,
                    _ => WebSocketOp.Unknown,
                };
                return OpText is not null;
            case "channel":
                Channel = RequireString(ref reader, name, out error);
                return Channel is not null;
            case "cursor":
                Cursor = RequireString(ref reader, name, out error);
                return Cursor is not null;
            case "type":
                Type = RequireString(ref reader, name, out error);
                return Type is not null;
            case "name":
                Name = RequireString(ref reader, name, out error);
                return Name is not null;
            case "presence":
                if (reader.TokenType != JsonTokenType.String || !Herald.Presence.PresenceJson.TryParseMode(reader.GetString(), out var mode))
                {
                    error = "'presence' must be \"off\", \"enter\", \"count\" or \"list\".";
                    return false;
                }

                Presence = mode;
                return true;
            case "presenceSince":
                return ReadPresenceSince(ref reader, out error);
            case "view":
                View = RequireString(ref reader, name, out error);
                return View is not null;
            case "status":
                if (reader.TokenType == JsonTokenType.Null)
                {
                    error = string.Empty;
                    return true;
                }

                Status = RequireString(ref reader, name, out error);
                return Status is not null;
            case "idempotencyKey":
                IdempotencyKey = RequireString(ref reader, name, out error);
                return IdempotencyKey is not null;
            case "since":
                return ReadSince(ref reader, out error);
            case "data":
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                Data = utf8[start..(int)reader.BytesConsumed];
                return true;
            case "after":
                After = RequireInteger(ref reader, name, out error);
                return After is not null;
            case "limit":
                Limit = RequireInteger(ref reader, name, out error);
                return Limit is not null;
            case "reverse":
                if (RequireBoolean(ref reader, name, out error) is not { } reverseValue)
                    return false;
                Reverse = reverseValue;
                return true;
            case "mode":
                var text = RequireString(ref reader, name, out error);
                if (text is not ("full" or "summary"))
                {
                    error = "'mode' must be \"full\" or \"summary\".";
                    return false;
                }

                Summary = text == "summary";
                return true;
            case "mentions":
                if (!Publishing.Mentions.TryRead(ref reader, out var mentions, out error))
                    return false;
                Mentions = mentions;
                return true;
            case "offset":
                Offset = RequireInteger(ref reader, name, out error);
                return Offset is not null;
            case "epoch":
                Epoch = RequireString(ref reader, name, out error);
                return Epoch is not null;
            case "unread":
                if (RequireBoolean(ref reader, name, out error) is not { } unreadValue)
                    return false;
                MarkUnread = unreadValue;
                return true;
            case "private":
                if (RequireBoolean(ref reader, name, out error) is not { } privateValue)
                    return false;
                Private = privateValue;
                return true;
            case "receipts":
                if (RequireBoolean(ref reader, name, out error) is not { } receiptsValue)
                    return false;
                Receipts = receiptsValue;
                return true;
            default:
                error = $"Unknown member '{name}'; see docs/protocol.md for each op's members.";
                return false;
        }
    }

    private bool ReadId(ref Utf8JsonReader reader, out string error)
    {
        error = string.Empty;
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            Id = new RequestId(number, null);
            return true;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            if (text.Length is > 0 and <= RequestId.MaxTextLength)
            {
                Id = new RequestId(null, text);
                return true;
            }
        }

        error = $"'id' must be an integer or a string of 1 to {RequestId.MaxTextLength} characters.";
        return false;
    }

    private bool ReadSince(ref Utf8JsonReader reader, out string error)
    {
        const string Shape = "'since' must be {\"epoch\":\"<epoch>\",\"offset\":<integer >= 0>}.";
        error = Shape;
        if (reader.TokenType != JsonTokenType.StartObject)
            return false;

        string? epoch = null;
        long? offset = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("epoch"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                    return false;
                epoch = reader.GetString();
            }
            else if (reader.ValueTextEquals("offset"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
                    return false;
                offset = value;
            }
            else
            {
                return false;
            }
        }

        if (epoch is null || offset is null)
            return false;

        Since = new Position(epoch, offset.Value);
        error = string.Empty;
        return true;
    }

    private bool ReadPresenceSince(ref Utf8JsonReader reader, out string error)
    {
        const string Shape = "'presenceSince' must be {\"epoch\":\"<epoch>\",\"seq\":<integer >= 0>}.";
        error = Shape;
        if (reader.TokenType != JsonTokenType.StartObject)
            return false;

        string? epoch = null;
        long? seq = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEpoch = reader.ValueTextEquals("epoch"u8);
            var isSeq = reader.ValueTextEquals("seq"u8);
            reader.Read();
            if (isEpoch && reader.TokenType == JsonTokenType.String)
                epoch = reader.GetString();
            else if (isSeq && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
                seq = value;
            else
                return false;
        }

        if (epoch is null || seq is null)
            return false;
        PresenceSince = new Herald.Presence.PresencePosition(epoch, seq.Value);
        error = string.Empty;
        return true;
    }

    private static bool? RequireBoolean(ref Utf8JsonReader reader, string name, out string error)
    {
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            error = $"'{name}' must be true or false.";
            return null;
        }

        error = string.Empty;
        return reader.GetBoolean();
    }

    private static string? RequireString(ref Utf8JsonReader reader, string name, out string error)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            error = $"'{name}' must be a string.";
            return null;
        }

        if (!Publishing.JsonData.TryGetString(ref reader, out var value))
        {
            error = $"'{name}' is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).";
            return null;
        }

        error = string.Empty;
        return value;
    }

    private static long? RequireInteger(ref Utf8JsonReader reader, string name, out string error)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
        {
            error = $"'{name}' must be an integer.";
            return null;
        }

        error = string.Empty;
        return value;
    }
}
