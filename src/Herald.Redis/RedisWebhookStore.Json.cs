using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Webhooks.Outbound;
using StackExchange.Redis;

namespace Herald.Redis;

internal sealed partial class RedisWebhookStore
{
    /// <summary>
    /// A subscription as stored in the hash: JSON, so the replay script can read <c>enabled</c> with
    /// Redis's cjson. Times are unix milliseconds.
    /// </summary>
    internal static string Serialize(WebhookSubscription subscription)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", subscription.Id);
            json.WriteString("url", subscription.Url);
            json.WriteStartArray("channels");
            foreach (var channel in subscription.Channels)
                json.WriteStringValue(channel);
            json.WriteEndArray();
            json.WriteString("secret", subscription.Secret);
            json.WriteBoolean("enabled", subscription.Enabled);
            json.WriteBoolean("ordered", subscription.Ordered);
            if (subscription.Description is { } description)
                json.WriteString("description", description);
            json.WriteNumber("createdAt", subscription.CreatedAt.ToUnixTimeMilliseconds());
            json.WriteNumber("updatedAt", subscription.UpdatedAt.ToUnixTimeMilliseconds());
            if (subscription.DisabledReason is { } reason)
                json.WriteString("disabledReason", reason);
            json.WriteStartArray("events");
            foreach (var type in subscription.Events)
                json.WriteStringValue(type);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A stored subscription; one written before <c>events</c> existed receives publications only.</summary>
    internal static WebhookSubscription Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var events = root.TryGetProperty("events", out var types)
            ? [.. types.EnumerateArray().Select(t => t.GetString()!)]
            : WebhookEventTypes.Default;
        return new WebhookSubscription(
            root.GetProperty("id").GetString()!,
            root.GetProperty("url").GetString()!,
            [.. root.GetProperty("channels").EnumerateArray().Select(c => c.GetString()!)],
            root.GetProperty("secret").GetString()!,
            root.GetProperty("enabled").GetBoolean(),
            root.GetProperty("ordered").GetBoolean(),
            root.TryGetProperty("description", out var description) ? description.GetString() : null,
            DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("createdAt").GetInt64()),
            DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("updatedAt").GetInt64()),
            root.TryGetProperty("disabledReason", out var reason) ? reason.GetString() : null)
        {
            Events = events,
        };
    }

    /// <summary>HGETALL's flat answer: id, json, id, json, …</summary>
    private static List<WebhookSubscription> ParseAll(RedisResult[] pairs)
    {
        var subscriptions = new List<WebhookSubscription>(pairs.Length / 2);
        for (var i = 1; i < pairs.Length; i += 2)
            subscriptions.Add(Parse((string)pairs[i]!));
        return subscriptions;
    }
}
