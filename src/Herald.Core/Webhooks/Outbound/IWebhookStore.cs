using Herald.Engine;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// A customer endpoint that receives the events (<see cref="Events"/>: publications by default) of
/// the channels its patterns match.
/// </summary>
/// <param name="Id"><c>sub_</c> and 20 random base32 characters.</param>
/// <param name="Url">Where deliveries are POSTed (http or https).</param>
/// <param name="Channels">Channel patterns (see <see cref="ChannelPattern"/>).</param>
/// <param name="Secret">The Standard Webhooks signing secret, <c>whsec_</c> and base64.</param>
/// <param name="Enabled">Disabled subscriptions get no new deliveries and their pending ones wait.</param>
/// <param name="Ordered">One delivery at a time, in order: a failing one holds back those after it.</param>
/// <param name="DisabledReason">Why Herald disabled it (a 410 Gone), when it did.</param>
internal sealed record WebhookSubscription(
    string Id,
    string Url,
    IReadOnlyList<string> Channels,
    string Secret,
    bool Enabled,
    bool Ordered,
    string? Description,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? DisabledReason)
{
    /// <summary>The event types it receives (<see cref="WebhookEventTypes"/>): <c>publication</c> unless it asked for others.</summary>
    public IReadOnlyList<string> Events { get; init; } = WebhookEventTypes.Default;

    /// <summary>Whether it receives events of <paramref name="type"/>.</summary>
    public bool Receives(string type)
    {
        foreach (var e in Events)
        {
            if (string.Equals(e, type, StringComparison.Ordinal))
                return true;
        }

        return false;
    }
}

/// <summary>A change to a subscription; null members stay as they are.</summary>
internal sealed record SubscriptionPatch(
    string? Url = null, IReadOnlyList<string>? Channels = null, bool? Enabled = null, bool? Ordered = null, string? Description = null, IReadOnlyList<string>? Events = null)
{
    public WebhookSubscription ApplyTo(WebhookSubscription current, DateTimeOffset now) => current with
    {
        Url = Url ?? current.Url,
        Channels = Channels ?? current.Channels,
        Enabled = Enabled ?? current.Enabled,
        Ordered = Ordered ?? current.Ordered,
        Description = Description ?? current.Description,
        Events = Events ?? current.Events,
        // Enabling clears the reason it was disabled for; disabling by hand has none.
        DisabledReason = Enabled is null ? current.DisabledReason : null,
        UpdatedAt = now,
    };
}

internal enum DeliveryStatus
{
    /// <summary>Waiting for its next attempt.</summary>
    Pending,

    /// <summary>An attempt got a 2xx.</summary>
    Delivered,

    /// <summary>Dead-lettered: the last scheduled attempt failed, or the endpoint answered 410 Gone.</summary>
    Dead,
}

/// <summary>One HTTP attempt of a delivery.</summary>
/// <param name="Number">1 for the first attempt of the delivery, counting on across replays.</param>
/// <param name="StatusCode">The HTTP status, null when no answer came (timeout, refused target, network error).</param>
/// <param name="Error">Why it failed; null when it succeeded.</param>
internal sealed record WebhookAttempt(int Number, DateTimeOffset At, int? StatusCode, int LatencyMs, string? Error);

/// <summary>One event (a publication, or a presence event) on its way to one subscription.</summary>
/// <param name="Id">The outbox row, increasing in the order deliveries were created.</param>
/// <param name="WebhookId">
/// The <c>webhook-id</c> header, the same on every attempt and replay: <c>msg_</c> and the
/// publication id, or <c>evt_</c> and the event id.
/// </param>
/// <param name="Type">The event type (<see cref="WebhookEventTypes"/>).</param>
/// <param name="Offset">The publication's offset; null for other events.</param>
internal sealed record WebhookDelivery(
    long Id,
    string Subscription,
    string WebhookId,
    string Type,
    string Channel,
    long? Offset,
    DeliveryStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<WebhookAttempt> Attempts);

/// <summary>A pending delivery that is due, with what the sender needs.</summary>
/// <param name="Attempts">Attempts made since it was created or last replayed: the position in the retry schedule.</param>
/// <param name="TotalAttempts">Attempts made in all, to number the next one.</param>
internal sealed record DueDelivery(long Id, string WebhookId, ReadOnlyMemory<byte> Body, int Attempts, int TotalAttempts);

/// <param name="Due">Due deliveries, oldest first, none of them claimed.</param>
/// <param name="NextDueMs">When nothing is due: when the next pending delivery will be (unix ms), or null when none is waiting on time.</param>
internal sealed record DueBatch(IReadOnlyList<DueDelivery> Due, long? NextDueMs);

/// <summary>The outcome of an attempt and the state it moves the delivery to.</summary>
/// <param name="Attempts">The delivery's attempts in its current run, this one included.</param>
/// <param name="NextMs">When <paramref name="Status"/> is pending: when the next attempt is due (unix ms).</param>
/// <param name="DisableReason">When set, the subscription is disabled with this reason (410 Gone).</param>
internal sealed record AttemptRecord(long DeliveryId, string Subscription, WebhookAttempt Attempt, DeliveryStatus Status, int Attempts, long NextMs, string? DisableReason);

/// <param name="Before">Only deliveries with a smaller id (paging, newest first).</param>
internal sealed record DeliveryQuery(string? Subscription, DeliveryStatus? Status, string? Channel, long? Before, int Limit);

/// <param name="NextBefore">The <c>before</c> of the next page, or null on the last one.</param>
internal sealed record DeliveryPage(IReadOnlyList<WebhookDelivery> Deliveries, long? NextBefore);

internal enum ReplayOutcome
{
    Replayed,
    NotFound,
    SubscriptionDisabled,
}

/// <summary>Webhook subscriptions, kept by the channel store (durable with SQLite).</summary>
internal interface IWebhookSubscriptionStore
{
    /// <summary>Adds <paramref name="subscription"/>; false when <paramref name="maxSubscriptions"/> exist already.</summary>
    ValueTask<bool> CreateAsync(WebhookSubscription subscription, int maxSubscriptions, CancellationToken cancellationToken = default);

    ValueTask<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default);

    ValueTask<WebhookSubscription?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Applies <paramref name="patch"/> to the stored subscription; null when there is none.</summary>
    ValueTask<WebhookSubscription?> UpdateAsync(string id, SubscriptionPatch patch, CancellationToken cancellationToken = default);

    /// <summary>Removes the subscription and its deliveries; false when there was none.</summary>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);
}

/// <summary>
/// The durable outbox: every publication matching an enabled subscription becomes a delivery in
/// the same commit as its append (the SQLite engine writes it in the append's transaction), and
/// every other event (<see cref="EnqueueEventsAsync"/>) in one write of its own; the delivery
/// worker takes them until they are delivered or dead.
/// </summary>
internal interface IWebhookOutbox
{
    /// <summary>
    /// The enabled subscriptions by event type, as this node knows them now: read on every presence
    /// change, so a node with no subscription to presence events builds nothing.
    /// </summary>
    WebhookRoutes Routes { get; }

    /// <summary>
    /// Durably makes one delivery of each event per enabled subscription whose patterns match its
    /// channel and whose <see cref="WebhookSubscription.Events"/> hold its type (matched against the
    /// store's current subscriptions, not <see cref="Routes"/>); completes once they are stored.
    /// Events are stored in the order given.
    /// </summary>
    /// <returns>The deliveries made.</returns>
    ValueTask<int> EnqueueEventsAsync(IReadOnlyList<WebhookEvent> events, CancellationToken cancellationToken = default);

    /// <summary>
    /// The subscription's due deliveries, skipping <paramref name="claimed"/> ones (being attempted).
    /// Ordered: only the oldest pending delivery, and only when it is due and not claimed.
    /// </summary>
    ValueTask<DueBatch> TakeDueAsync(string subscription, bool ordered, long nowMs, int limit, IReadOnlySet<long> claimed, CancellationToken cancellationToken = default);

    /// <summary>Stores an attempt and the delivery's new state; nothing when the delivery is gone.</summary>
    ValueTask RecordAsync(AttemptRecord record, CancellationToken cancellationToken = default);

    ValueTask<DeliveryPage> ListAsync(DeliveryQuery query, CancellationToken cancellationToken = default);

    ValueTask<WebhookDelivery?> GetAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Makes the delivery pending and due now with a fresh retry schedule, keeping its <c>webhook-id</c> and attempts.</summary>
    ValueTask<ReplayOutcome> ReplayAsync(long id, CancellationToken cancellationToken = default);
}

/// <summary>Told by the stores, after commit, when there is something new for the worker.</summary>
internal interface IOutboxListener
{
    /// <summary>New or replayed deliveries of <paramref name="subscription"/> are waiting.</summary>
    void OnQueued(string subscription);

    /// <summary>A subscription was created, changed or removed.</summary>
    void OnSubscriptionsChanged();
}

/// <summary>Connects the stores to the delivery worker, which registers itself as the listener.</summary>
internal sealed class OutboxSignal
{
    public IOutboxListener? Listener { get; set; }

    public void Queued(string subscription) => Listener?.OnQueued(subscription);

    public void SubscriptionsChanged() => Listener?.OnSubscriptionsChanged();
}

/// <summary>The <c>webhook-id</c> of every delivery of an event: stable across retries, replays and subscriptions.</summary>
internal static class WebhookMessageId
{
    public static string Of(Publication publication) => "msg_" + publication.Id;

    /// <summary><c>msg_</c> and the publication id for a publication, <c>evt_</c> and the event id for any other event.</summary>
    public static string Of(string type, string id) => (type == WebhookEventTypes.Publication ? "msg_" : "evt_") + id;
}
