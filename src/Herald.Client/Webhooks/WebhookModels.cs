using System.Text.Json.Serialization;

namespace Herald.Client.Webhooks;

/// <summary>An outbound webhook subscription (docs/webhooks.md#outbound-webhooks).</summary>
/// <param name="Id">Its id (<c>sub_…</c>).</param>
/// <param name="Url">Where deliveries are POSTed.</param>
/// <param name="Channels">Channel patterns: <c>ns:name</c>, <c>ns:*</c>, <c>ns:prefix*</c> or <c>*</c>.</param>
/// <param name="Secret">The <c>whsec_</c> signing secret: only in the answer to its creation.</param>
/// <param name="Enabled">False: nothing new is queued for it.</param>
/// <param name="Ordered">One delivery at a time, in order.</param>
/// <param name="Description">A note for people.</param>
/// <param name="DisabledReason">Why the server disabled it (e.g. a 410 Gone).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="Events">The event types it receives (<see cref="WebhookEventTypes"/>); <c>publication</c> unless it asked for others.</param>
public sealed record WebhookSubscription(
    string Id, string Url, IReadOnlyList<string> Channels, string? Secret, bool Enabled, bool Ordered, string? Description, string? DisabledReason, DateTime CreatedAt, DateTime UpdatedAt,
    IReadOnlyList<string>? Events = null);

/// <summary>The event types a subscription may receive (docs/webhooks.md#presence-events).</summary>
public static class WebhookEventTypes
{
    /// <summary>Every publication of a matching channel (the default).</summary>
    public const string Publication = "publication";

    /// <summary>A channel with presence went from nobody present to someone.</summary>
    public const string ChannelOccupied = "channel.occupied";

    /// <summary>A channel with presence went back to nobody present (after the leave grace).</summary>
    public const string ChannelVacated = "channel.vacated";

    /// <summary>A user joined a channel's presence.</summary>
    public const string PresenceJoin = "presence.join";

    /// <summary>A user left a channel's presence (after the leave grace).</summary>
    public const string PresenceLeave = "presence.leave";
}

/// <summary>What to create or change; null members are left out (on update: unchanged).</summary>
public sealed record WebhookSubscriptionRequest
{
    /// <summary>Where deliveries are POSTed (http or https; required on create).</summary>
    public string? Url { get; init; }

    /// <summary>Channel patterns (required on create).</summary>
    public IReadOnlyList<string>? Channels { get; init; }

    /// <summary>Your own <c>whsec_</c> secret (create only; default: generated).</summary>
    public string? Secret { get; init; }

    /// <summary>Enabled (default true).</summary>
    public bool? Enabled { get; init; }

    /// <summary>One delivery at a time, in order (default false).</summary>
    public bool? Ordered { get; init; }

    /// <summary>A note for people.</summary>
    public string? Description { get; init; }

    /// <summary>The event types to receive (<see cref="WebhookEventTypes"/>; default on create: publications only).</summary>
    public IReadOnlyList<string>? Events { get; init; }
}

/// <summary>One attempt to deliver.</summary>
/// <param name="Number">1 for the first.</param>
/// <param name="At">When it was made.</param>
/// <param name="StatusCode">The status the endpoint answered; null when none came.</param>
/// <param name="LatencyMs">How long it took.</param>
/// <param name="Error">Why it failed, when it did.</param>
public sealed record WebhookAttempt(int Number, DateTime At, int? StatusCode, int LatencyMs, string? Error);

/// <summary>One event (a publication, or a presence event) to deliver to one subscription.</summary>
/// <param name="Id">The delivery's id.</param>
/// <param name="Subscription">The subscription's id.</param>
/// <param name="WebhookId">The <c>webhook-id</c> header (the same on every attempt and replay): <c>msg_…</c> for a publication, <c>evt_…</c> for another event.</param>
/// <param name="Channel">The event's channel.</param>
/// <param name="Offset">The publication's offset; null for other events.</param>
/// <param name="Status"><c>pending</c>, <c>delivered</c> or <c>dead</c>.</param>
/// <param name="CreatedAt">When it was queued.</param>
/// <param name="NextAttemptAt">When it is attempted next, if pending.</param>
/// <param name="Attempts">Its attempts so far.</param>
/// <param name="Type">The event type (<see cref="WebhookEventTypes"/>).</param>
public sealed record WebhookDelivery(
    long Id, string Subscription, string WebhookId, string Channel, long? Offset, string Status, DateTime CreatedAt, DateTime? NextAttemptAt, IReadOnlyList<WebhookAttempt> Attempts,
    string Type = WebhookEventTypes.Publication);

/// <summary>A page of deliveries, newest first.</summary>
/// <param name="Deliveries">The deliveries.</param>
/// <param name="NextBefore">Pass as <see cref="WebhookDeliveryQuery.Before"/> for the next (older) page; null on the last.</param>
public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDelivery> Deliveries, long? NextBefore);

/// <summary>Which deliveries to list.</summary>
public sealed record WebhookDeliveryQuery
{
    /// <summary>Only this subscription's.</summary>
    public string? Subscription { get; init; }

    /// <summary><c>pending</c>, <c>delivered</c> or <c>dead</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Only this channel's.</summary>
    public string? Channel { get; init; }

    /// <summary>Only deliveries older than this id.</summary>
    public long? Before { get; init; }

    /// <summary>At most this many.</summary>
    public int? Limit { get; init; }
}

internal sealed record WebhookSubscriptionList(IReadOnlyList<WebhookSubscription> Subscriptions);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookSubscription))]
[JsonSerializable(typeof(WebhookSubscriptionList))]
[JsonSerializable(typeof(WebhookSubscriptionRequest))]
[JsonSerializable(typeof(WebhookDelivery))]
[JsonSerializable(typeof(WebhookDeliveryPage))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
