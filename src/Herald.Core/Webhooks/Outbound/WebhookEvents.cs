using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;

namespace Herald.Webhooks.Outbound;

/// <summary>The event types a subscription may ask for (its <c>events</c> member; docs/webhooks.md).</summary>
internal static class WebhookEventTypes
{
    /// <summary>A publication of a matching channel: the default, and what every subscription made before events existed gets.</summary>
    public const string Publication = "publication";

    /// <summary>A channel with presence went from nobody present to someone (a user or an anonymous connection).</summary>
    public const string ChannelOccupied = "channel.occupied";

    /// <summary>A channel with presence went back to nobody present: its last member left, after the leave grace.</summary>
    public const string ChannelVacated = "channel.vacated";

    /// <summary>A user joined a channel's presence (their first connection there; not counted again for a second tab).</summary>
    public const string PresenceJoin = "presence.join";

    /// <summary>A user left a channel's presence (their last connection there, after the leave grace).</summary>
    public const string PresenceLeave = "presence.leave";

    /// <summary>What a subscription receives when it names no events.</summary>
    public static IReadOnlyList<string> Default { get; } = [Publication];

    /// <summary>Every type, in the order the documentation lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Publication, ChannelOccupied, ChannelVacated, PresenceJoin, PresenceLeave];

    /// <summary>The types other than <see cref="Publication"/>: made by presence, enqueued one write at a time.</summary>
    public static IReadOnlyList<string> Presence { get; } = [ChannelOccupied, ChannelVacated, PresenceJoin, PresenceLeave];

    private static readonly FrozenSet<string> s_known = All.ToFrozenSet(StringComparer.Ordinal);

    public static bool IsKnown(string? type) => type is not null && s_known.Contains(type);
}

/// <summary>An event other than a publication, ready for the outbox.</summary>
/// <param name="Id">Unique (32 hex digits); the <c>webhook-id</c> is <c>evt_</c> and this, on every delivery, retry and replay.</param>
/// <param name="Type">One of <see cref="WebhookEventTypes.Presence"/>.</param>
/// <param name="Channel">The channel it is about: matched against the subscriptions' patterns.</param>
/// <param name="Body">The JSON POSTed, exactly (<see cref="WebhookEventEncoder"/>).</param>
internal sealed record WebhookEvent(string Id, string Type, string Channel, ReadOnlyMemory<byte> Body)
{
    public string WebhookId => WebhookMessageId.Of(Type, Id);

    public static string NewId() => Guid.CreateVersion7().ToString("N");
}

/// <summary>
/// The bodies of the presence events, compact JSON with a <c>type</c> like every Herald message:
/// <code>
/// {"type":"channel.occupied","channel":"chat:lobby","time":"2026-11-25T18:00:00.123Z"}
/// {"type":"presence.join","channel":"chat:lobby","user":"alice","info":{"name":"Alice"},"time":"…"}
/// {"type":"presence.leave","channel":"chat:lobby","user":"alice","time":"…"}
/// {"type":"channel.vacated","channel":"chat:lobby","time":"…"}
/// </code>
/// <c>time</c> is when the presence store applied the change, in milliseconds, ISO 8601 UTC;
/// <c>info</c> is the user's token info and absent when it had none.
/// </summary>
internal static class WebhookEventEncoder
{
    public static byte[] Channel(string type, string channel, DateTimeOffset time) => Write(type, channel, null, default, time);

    public static byte[] Join(string channel, string user, ReadOnlyMemory<byte> info, DateTimeOffset time) =>
        Write(WebhookEventTypes.PresenceJoin, channel, user, info, time);

    public static byte[] Leave(string channel, string user, DateTimeOffset time) =>
        Write(WebhookEventTypes.PresenceLeave, channel, user, default, time);

    private static byte[] Write(string type, string channel, string? user, ReadOnlyMemory<byte> info, DateTimeOffset time)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + info.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            writer.WriteString("channel"u8, channel);
            if (user is not null)
                writer.WriteString("user"u8, user);
            if (!info.IsEmpty)
            {
                writer.WritePropertyName("info"u8);
                writer.WriteRawValue(info.Span, skipInputValidation: true);
            }

            writer.WriteString("time"u8, DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds()).UtcDateTime);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// The enabled subscriptions of a store, one <see cref="SubscriptionIndex"/> per event type.
/// Immutable; built whenever the subscriptions change. <see cref="HasEvents"/> false — no
/// subscription asked for anything but publications — is what lets presence skip webhooks outright.
/// </summary>
internal sealed class WebhookRoutes
{
    private readonly FrozenDictionary<string, SubscriptionIndex> events;

    public WebhookRoutes(IEnumerable<WebhookSubscription> subscriptions)
    {
        var list = subscriptions as IReadOnlyCollection<WebhookSubscription> ?? [.. subscriptions];
        Publications = new SubscriptionIndex(list, WebhookEventTypes.Publication);
        var byType = new Dictionary<string, SubscriptionIndex>(StringComparer.Ordinal);
        foreach (var type in WebhookEventTypes.Presence)
        {
            if (list.Any(s => s.Enabled && s.Receives(type)))
                byType[type] = new SubscriptionIndex(list, type);
        }

        events = byType.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static WebhookRoutes Empty { get; } = new([]);

    /// <summary>The subscriptions that receive publications: what the append path matches.</summary>
    public SubscriptionIndex Publications { get; }

    /// <summary>Whether any enabled subscription receives an event other than publications.</summary>
    public bool HasEvents => events.Count > 0;

    /// <summary>Whether an enabled subscription would receive an event of <paramref name="type"/> about <paramref name="channel"/>.</summary>
    public bool Wants(string type, string channel) => events.TryGetValue(type, out var index) && index.Matches(channel);

    /// <summary>Adds the subscriptions that receive <paramref name="type"/> on <paramref name="channel"/> to <paramref name="into"/>.</summary>
    public void Match(string type, string channel, List<WebhookSubscription> into)
    {
        if (type == WebhookEventTypes.Publication)
            Publications.Match(channel, into);
        else if (events.TryGetValue(type, out var index))
            index.Match(channel, into);
    }
}
