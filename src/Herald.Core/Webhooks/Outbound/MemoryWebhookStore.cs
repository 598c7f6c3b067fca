using Herald.Engine;
using Herald.Hub;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// Subscriptions and outbox in process memory, for the memory channel store: the same behaviour
/// as the SQLite engine's store, but nothing survives a restart — neither the
/// subscriptions nor the pending deliveries. It sees publications as the log's
/// <see cref="IPublicationSink"/>, in offset order per channel.
/// </summary>
internal sealed class MemoryWebhookStore(OutboundWebhookOptions options, OutboxSignal signal, TimeProvider time)
    : IWebhookSubscriptionStore, IWebhookOutbox, IPublicationSink
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, WebhookSubscription> subscriptions = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, Entry> deliveries = [];
    private readonly Dictionary<string, SortedSet<long>> pending = new(StringComparer.Ordinal);
    private volatile WebhookRoutes routes = WebhookRoutes.Empty;
    private long nextId;
    private long nextSweepMs;

    public WebhookRoutes Routes => routes;

    public void OnPublished(Publication publication)
    {
        var current = routes.Publications;
        if (current.Count == 0)
            return;
        var matches = new List<WebhookSubscription>();
        current.Match(publication.Channel, matches);
        if (matches.Count == 0)
            return;

        var body = PublicationEncoder.Encode(publication, WireFormat.Json);
        var nowMs = NowMs();
        var dueMs = nowMs + (long)options.Schedule.DelayBefore(0).TotalMilliseconds;
        lock (gate)
        {
            foreach (var subscription in matches)
            {
                var id = ++nextId;
                deliveries[id] = new Entry(id, subscription.Id, WebhookMessageId.Of(publication), WebhookEventTypes.Publication, publication.Channel, publication.Offset, body, nowMs) { NextMs = dueMs };
                PendingOf(subscription.Id).Add(id);
            }

            if (nowMs >= nextSweepMs)
                Sweep(nowMs);
        }

        WebhookMetrics.DeliveriesCreated.Add(matches.Count);
        foreach (var subscription in matches)
            signal.Queued(subscription.Id);
    }

    public ValueTask<int> EnqueueEventsAsync(IReadOnlyList<WebhookEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var queued = new HashSet<string>(StringComparer.Ordinal);
        var matches = new List<WebhookSubscription>();
        var made = 0;
        var nowMs = NowMs();
        var dueMs = nowMs + (long)options.Schedule.DelayBefore(0).TotalMilliseconds;
        lock (gate)
        {
            // Matched under the lock: against the subscriptions as they are, not as a caller last saw them.
            var current = routes;
            foreach (var e in events)
            {
                matches.Clear();
                current.Match(e.Type, e.Channel, matches);
                var body = e.Body.ToArray();
                foreach (var subscription in matches)
                {
                    var id = ++nextId;
                    deliveries[id] = new Entry(id, subscription.Id, e.WebhookId, e.Type, e.Channel, null, body, nowMs) { NextMs = dueMs };
                    PendingOf(subscription.Id).Add(id);
                    queued.Add(subscription.Id);
                    made++;
                }
            }

            if (nowMs >= nextSweepMs)
                Sweep(nowMs);
        }

        WebhookMetrics.DeliveriesCreated.Add(made);
        foreach (var subscription in queued)
            signal.Queued(subscription);
        return ValueTask.FromResult(made);
    }

    public ValueTask<bool> CreateAsync(WebhookSubscription subscription, int maxSubscriptions, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (subscriptions.Count >= maxSubscriptions)
                return ValueTask.FromResult(false);
            subscriptions[subscription.Id] = subscription;
            Reindex();
        }

        signal.SubscriptionsChanged();
        return ValueTask.FromResult(true);
    }

    public ValueTask<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (gate)
            return ValueTask.FromResult<IReadOnlyList<WebhookSubscription>>([.. subscriptions.Values.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)]);
    }

    public ValueTask<WebhookSubscription?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (gate)
            return ValueTask.FromResult(subscriptions.GetValueOrDefault(id));
    }

    public ValueTask<WebhookSubscription?> UpdateAsync(string id, SubscriptionPatch patch, CancellationToken cancellationToken = default)
    {
        WebhookSubscription? updated;
        lock (gate)
        {
            if (!subscriptions.TryGetValue(id, out var current))
                return ValueTask.FromResult<WebhookSubscription?>(null);
            updated = patch.ApplyTo(current, time.GetUtcNow());
            subscriptions[id] = updated;
            Reindex();
        }

        signal.SubscriptionsChanged();
        signal.Queued(id);
        return ValueTask.FromResult<WebhookSubscription?>(updated);
    }

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (!subscriptions.Remove(id))
                return ValueTask.FromResult(false);
            foreach (var delivery in deliveries.Values.Where(d => d.Subscription == id).Select(d => d.Id).ToList())
                deliveries.Remove(delivery);
            pending.Remove(id);
            Reindex();
        }

        signal.SubscriptionsChanged();
        return ValueTask.FromResult(true);
    }

    public ValueTask<DueBatch> TakeDueAsync(string subscription, bool ordered, long nowMs, int limit, IReadOnlySet<long> claimed, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (!pending.TryGetValue(subscription, out var ids) || ids.Count == 0)
                return ValueTask.FromResult(new DueBatch([], null));

            if (ordered)
            {
                var head = deliveries[ids.Min];
                return ValueTask.FromResult(
                    claimed.Contains(head.Id) ? new DueBatch([], null)
                    : head.NextMs > nowMs ? new DueBatch([], head.NextMs)
                    : new DueBatch([head.ToDue()], null));
            }

            var due = ids.Select(id => deliveries[id])
                .Where(d => d.NextMs <= nowMs && !claimed.Contains(d.Id))
                .OrderBy(d => d.NextMs).ThenBy(d => d.Id)
                .Take(limit)
                .Select(d => d.ToDue())
                .ToList();
            long? next = due.Count > 0 ? null : ids.Select(id => deliveries[id].NextMs).Where(ms => ms > nowMs).DefaultIfEmpty(long.MaxValue).Min();
            return ValueTask.FromResult(new DueBatch(due, next == long.MaxValue ? null : next));
        }
    }

    public ValueTask RecordAsync(AttemptRecord record, CancellationToken cancellationToken = default)
    {
        var disabled = false;
        lock (gate)
        {
            if (!deliveries.TryGetValue(record.DeliveryId, out var entry))
                return ValueTask.CompletedTask;
            entry.Status = record.Status;
            entry.Attempts = record.Attempts;
            entry.Total = Math.Max(entry.Total, record.Attempt.Number);
            entry.NextMs = record.NextMs;
            entry.History.RemoveAll(a => a.Number == record.Attempt.Number);
            entry.History.Add(record.Attempt);
            if (record.Status == DeliveryStatus.Pending)
                PendingOf(entry.Subscription).Add(entry.Id);
            else
                PendingOf(entry.Subscription).Remove(entry.Id);

            if (record.DisableReason is { } reason && subscriptions.TryGetValue(record.Subscription, out var subscription) && subscription.Enabled)
            {
                subscriptions[subscription.Id] = subscription with { Enabled = false, DisabledReason = reason, UpdatedAt = time.GetUtcNow() };
                Reindex();
                disabled = true;
            }
        }

        if (disabled)
            signal.SubscriptionsChanged();
        return ValueTask.CompletedTask;
    }

    public ValueTask<DeliveryPage> ListAsync(DeliveryQuery query, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var rows = deliveries.Values.Reverse()
                .Where(d => d.Id < (query.Before ?? long.MaxValue)
                    && (query.Subscription is null || d.Subscription == query.Subscription)
                    && (query.Status is null || d.Status == query.Status)
                    && (query.Channel is null || d.Channel == query.Channel))
                .Take(query.Limit + 1)
                .Select(d => d.ToDelivery())
                .ToList();
            var more = rows.Count > query.Limit;
            if (more)
                rows.RemoveAt(rows.Count - 1);
            return ValueTask.FromResult(new DeliveryPage(rows, more ? rows[^1].Id : null));
        }
    }

    public ValueTask<WebhookDelivery?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        lock (gate)
            return ValueTask.FromResult(deliveries.TryGetValue(id, out var entry) ? entry.ToDelivery() : null);
    }

    public ValueTask<ReplayOutcome> ReplayAsync(long id, CancellationToken cancellationToken = default)
    {
        string subscription;
        lock (gate)
        {
            if (!deliveries.TryGetValue(id, out var entry))
                return ValueTask.FromResult(ReplayOutcome.NotFound);
            if (!subscriptions.TryGetValue(entry.Subscription, out var owner) || !owner.Enabled)
                return ValueTask.FromResult(ReplayOutcome.SubscriptionDisabled);
            entry.Status = DeliveryStatus.Pending;
            entry.Attempts = 0;
            entry.NextMs = NowMs();
            PendingOf(entry.Subscription).Add(id);
            subscription = entry.Subscription;
        }

        signal.Queued(subscription);
        return ValueTask.FromResult(ReplayOutcome.Replayed);
    }

    private long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private SortedSet<long> PendingOf(string subscription)
    {
        if (!pending.TryGetValue(subscription, out var ids))
            pending[subscription] = ids = [];
        return ids;
    }

    private void Reindex() => routes = new WebhookRoutes([.. subscriptions.Values]);

    /// <summary>Drops finished deliveries past the retention; at most once a second, under the lock.</summary>
    private void Sweep(long nowMs)
    {
        nextSweepMs = nowMs + 1000;
        var cutoff = nowMs - (long)options.DeliveryRetention.TotalMilliseconds;
        var expired = deliveries.Values.TakeWhile(d => d.CreatedMs <= cutoff).Where(d => d.Status != DeliveryStatus.Pending).Select(d => d.Id).ToList();
        foreach (var id in expired)
            deliveries.Remove(id);
    }

    private sealed class Entry(long id, string subscription, string webhookId, string type, string channel, long? offset, byte[] body, long createdMs)
    {
        public long Id { get; } = id;

        public string Subscription { get; } = subscription;

        public string Channel { get; } = channel;

        public long CreatedMs { get; } = createdMs;

        public DeliveryStatus Status { get; set; }

        public int Attempts { get; set; }

        public int Total { get; set; }

        public long NextMs { get; set; }

        public List<WebhookAttempt> History { get; } = [];

        public DueDelivery ToDue() => new(Id, webhookId, body, Attempts, Total);

        public WebhookDelivery ToDelivery() => new(
            Id, Subscription, webhookId, type, Channel, offset, Status, DateTimeOffset.FromUnixTimeMilliseconds(CreatedMs),
            Status == DeliveryStatus.Pending ? DateTimeOffset.FromUnixTimeMilliseconds(NextMs) : null,
            [.. History]);
    }
}
