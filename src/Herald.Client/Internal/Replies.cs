using System.Text.Json;
using Herald.Client.Transports;

namespace Herald.Client.Internal;

/// <summary>Reading the rarer messages (replies, subscribed, answers): a <see cref="JsonDocument"/> is fine off the hot path.</summary>
internal static class Replies
{
    /// <summary>The <c>channels</c> member of an SSE/stream <c>subscribed</c> message or a poll answer.</summary>
    public static List<KeyValuePair<string, SubscribeReply>> ChannelReplies(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        if (!document.RootElement.TryGetProperty("channels", out var channels) || channels.ValueKind != JsonValueKind.Object)
            throw HeraldException.Invalid("'channels' is not an object");
        var replies = new List<KeyValuePair<string, SubscribeReply>>();
        foreach (var entry in channels.EnumerateObject())
            replies.Add(new(entry.Name, Reply(entry.Value)));
        return replies;
    }

    public static SubscribeReply Reply(JsonElement o)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("recovered", out var recovered) || recovered.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw HeraldException.Invalid("'recovered' is not a boolean");
        return new SubscribeReply(recovered.GetBoolean(), String(o, "epoch"), Int64(o, "offset"));
    }

    public static string Reason(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString()! : "disconnect";
    }

    /// <summary>A WebSocket error reply as an exception with the server's code.</summary>
    public static HeraldException Error(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var code = root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "invalid_response";
        var message = root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "The server refused the request.";
        return new HeraldException(code, message);
    }

    /// <summary>The HTTP 201/200 answer or the WebSocket <c>published</c> reply (whose id is <c>publicationId</c>).</summary>
    public static PublishResult PublishResult(ReadOnlySpan<byte> json, bool duplicate)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var o = document.RootElement;
        var id = o.TryGetProperty("publicationId", out var pid) && pid.ValueKind == JsonValueKind.String ? pid.GetString()! : String(o, "id");
        duplicate |= o.TryGetProperty("duplicate", out var d) && d.ValueKind == JsonValueKind.True;
        return new PublishResult(String(o, "channel"), Int64(o, "offset"), String(o, "epoch"), id, o.GetProperty("time").GetDateTimeOffset(), duplicate);
    }

    /// <summary>A history answer (HTTP or the WebSocket reply), its publications read as <typeparamref name="T"/>.</summary>
    public static HistoryPage<T> History<T>(ReadOnlySpan<byte> json, DataReader<T> data)
    {
        string? channel = null, epoch = null;
        long top = 0, first = 0;
        var publications = new List<Publication<T>>();
        var parser = new WireParser();
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "channel": channel = reader.GetString(); break;
                case "epoch": epoch = reader.GetString(); break;
                case "top": top = reader.GetInt64(); break;
                case "first": first = reader.GetInt64(); break;
                case "publications":
                    if (reader.TokenType != JsonTokenType.StartArray)
                        throw HeraldException.Invalid("'publications' is not an array");
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        parser.Parse(json[start..(int)reader.BytesConsumed], out var message);
                        var pubEpoch = System.Text.Encoding.ASCII.GetString(message.Epoch);
                        publications.Add(Create(ref message, message.Channel ?? channel ?? string.Empty, pubEpoch, data));
                    }

                    break;
                default: reader.Skip(); break;
            }
        }

        if (channel is null || epoch is null)
            throw HeraldException.Invalid("a history answer without channel or epoch");
        return new HistoryPage<T>(channel, epoch, top, first, publications);
    }

    /// <summary>A publication outside any subscription (history).</summary>
    public static Publication<T> Create<T>(ref WireMessage message, string channel, string epoch, DataReader<T> data)
    {
        string? id = null;
        if (!Hex.TryParse128(message.Id, out var high, out var low))
            id = System.Text.Encoding.UTF8.GetString(message.Id);
        JsonData? meta = message.Meta.IsEmpty ? null : new JsonData(message.Meta.ToArray());
        return new Publication<T>(channel, message.Offset, epoch, id, high, low, message.Time, message.From, message.MsgType, meta, data.Read(message.HasData ? message.Data : "null"u8));
    }

    private static string String(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw HeraldException.Invalid($"'{name}' is not a string");

    private static long Int64(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : throw HeraldException.Invalid($"'{name}' is not a number");
}
