using System.Text.Json.Serialization;

namespace Herald.Webhooks.Outbound;

/// <summary>The body of <c>POST</c> and <c>PATCH /v1/webhooks/subscriptions</c>; unknown members are refused.</summary>
/// <param name="Events">
/// The event types to receive: <c>publication</c>, <c>channel.occupied</c>, <c>channel.vacated</c>,
/// <c>presence.join</c>, <c>presence.leave</c>; at least one. Absent on creation: <c>["publication"]</c>.
/// </param>
public sealed record SubscriptionRequest(string? Url, IReadOnlyList<string>? Channels, string? Secret, bool? Enabled, bool? Ordered, string? Description, IReadOnlyList<string>? Events = null);

/// <summary>A subscription as the API shows it; <c>secret</c> only in the answer to its creation.</summary>
/// <param name="Events">The event types it receives.</param>
public sealed record SubscriptionResponse(
    string Id,
    string Url,
    IReadOnlyList<string> Channels,
    IReadOnlyList<string> Events,
    string? Secret,
    bool Enabled,
    bool Ordered,
    string? Description,
    string? DisabledReason,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    internal static SubscriptionResponse From(WebhookSubscription s, bool withSecret = false) =>
        new(s.Id, s.Url, s.Channels, s.Events, withSecret ? s.Secret : null, s.Enabled, s.Ordered, s.Description, s.DisabledReason, s.CreatedAt.UtcDateTime, s.UpdatedAt.UtcDateTime);
}

public sealed record SubscriptionListResponse(IReadOnlyList<SubscriptionResponse> Subscriptions);

/// <param name="StatusCode">The HTTP status the endpoint answered; absent when none came (timeout, refused target, network error).</param>
public sealed record AttemptResponse(int Number, DateTime At, int? StatusCode, int LatencyMs, string? Error);

/// <param name="Type">The event type: <c>publication</c>, <c>channel.occupied</c>, <c>channel.vacated</c>, <c>presence.join</c> or <c>presence.leave</c>.</param>
/// <param name="Offset">The publication's offset; absent for other events.</param>
/// <param name="Status"><c>pending</c>, <c>delivered</c> or <c>dead</c>.</param>
public sealed record DeliveryResponse(
    long Id,
    string Subscription,
    string WebhookId,
    string Type,
    string Channel,
    long? Offset,
    string Status,
    DateTime CreatedAt,
    DateTime? NextAttemptAt,
    IReadOnlyList<AttemptResponse> Attempts)
{
    internal static DeliveryResponse From(WebhookDelivery d) => new(
        d.Id,
        d.Subscription,
        d.WebhookId,
        d.Type,
        d.Channel,
        d.Offset,
        NameOf(d.Status),
        d.CreatedAt.UtcDateTime,
        d.NextAttemptAt?.UtcDateTime,
        [.. d.Attempts.Select(a => new AttemptResponse(a.Number, a.At.UtcDateTime, a.StatusCode, a.LatencyMs, a.Error))]);

    internal static string NameOf(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Pending => "pending",
        DeliveryStatus.Delivered => "delivered",
        _ => "dead",
    };
}

/// <param name="NextBefore">Pass as <c>before</c> for the next (older) page; absent on the last page.</param>
public sealed record DeliveryListResponse(IReadOnlyList<DeliveryResponse> Deliveries, long? NextBefore);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(SubscriptionRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(SubscriptionListResponse))]
[JsonSerializable(typeof(DeliveryResponse))]
[JsonSerializable(typeof(DeliveryListResponse))]
internal sealed partial class WebhookApiJsonContext : JsonSerializerContext;
