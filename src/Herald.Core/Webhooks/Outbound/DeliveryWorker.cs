using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// Delivers the outbox: one lane per enabled subscription takes its due deliveries from the store
/// and attempts them, at most <see cref="OutboundWebhookOptions.MaxConcurrencyPerSubscription"/>
/// at a time (one for an ordered subscription) and <see cref="OutboundWebhookOptions.MaxConcurrency"/>
/// over all lanes. A delivery is claimed while it is attempted and released only after its outcome
/// is committed, so it is never attempted twice at once; after a crash, whatever was in flight is
/// still pending and goes again, with the same <c>webhook-id</c>.
/// </summary>
internal sealed partial class DeliveryWorker : BackgroundService, IOutboxListener
{
    // Lanes and the worker re-check the store at least this often, should a signal ever be missed.
    internal static readonly TimeSpan SafetyPoll = TimeSpan.FromSeconds(30);

    // 256 deliveries per read: few reads per second at thousands of deliveries per second.
    private const int FetchSize = 256;

    private readonly IWebhookOutbox outbox;
    private readonly IWebhookSubscriptionStore subscriptions;
    private readonly OutboxSignal signal;
    private readonly WebhookSender sender;
    private readonly OutboundWebhookOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SemaphoreSlim global;
    private readonly Lock gate = new();
    private readonly Dictionary<string, Lane> lanes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<long>> claims = new(StringComparer.Ordinal);
    private readonly AsyncWake changed = new();
    private int running;

    public DeliveryWorker(
        IWebhookOutbox outbox,
        IWebhookSubscriptionStore subscriptions,
        OutboxSignal signal,
        WebhookSender sender,
        IOptions<HeraldOptions> options,
        TimeProvider time,
        ILogger<DeliveryWorker> logger)
    {
        this.outbox = outbox;
        this.subscriptions = subscriptions;
        this.signal = signal;
        this.sender = sender;
        this.options = options.Value.Webhooks.Outbound;
        this.time = time;
        this.logger = logger;
        global = new SemaphoreSlim(this.options.MaxConcurrency);
    }

    public void OnQueued(string subscription)
    {
        lock (gate)
        {
            if (lanes.TryGetValue(subscription, out var lane))
                lane.Wake.Set();
        }
    }

    public void OnSubscriptionsChanged() => changed.Set();

    public override void Dispose()
    {
        global.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        signal.Listener = this;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ReconcileAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The lanes that run keep running; the next change or safety poll tries again.
                    Log.ReconcileFailed(logger, e);
                }

                await changed.WaitAsync(SafetyPoll, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            signal.Listener = null;
            List<Lane> stopping;
            lock (gate)
            {
                stopping = [.. lanes.Values];
                lanes.Clear();
            }

            foreach (var lane in stopping)
                await lane.StopAsync();

            // Attempts in flight were cancelled with stoppingToken (their deliveries stay pending); let them unwind.
            for (var i = 0; i < 1000 && Volatile.Read(ref running) > 0; i++)
                await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>Starts a lane per enabled subscription, restarts those whose subscription changed, stops the rest.</summary>
    /// <remarks>A lane is stopped before its successor starts, so two lanes never take the same subscription's deliveries.</remarks>
    private async Task ReconcileAsync(CancellationToken stoppingToken)
    {
        var current = await subscriptions.ListAsync(stoppingToken);
        var enabled = current.Where(s => s.Enabled).ToDictionary(s => s.Id, StringComparer.Ordinal);
        var stale = new List<Lane>();
        lock (gate)
        {
            foreach (var (id, lane) in lanes.ToList())
            {
                if (!enabled.TryGetValue(id, out var subscription) || subscription != lane.Subscription)
                {
                    stale.Add(lane);
                    lanes.Remove(id);
                }
            }
        }

        foreach (var lane in stale)
            await lane.StopAsync();

        lock (gate)
        {
            foreach (var id in claims.Keys.Where(id => current.All(s => s.Id != id)).ToList())
                claims.Remove(id);

            foreach (var subscription in enabled.Values)
            {
                if (lanes.ContainsKey(subscription.Id))
                    continue;
                if (!claims.TryGetValue(subscription.Id, out var claimed))
                    claims[subscription.Id] = claimed = [];
                var lane = new Lane(this, subscription, claimed, stoppingToken);
                lanes[subscription.Id] = lane;
                lane.Start();
            }
        }
    }

    /// <summary>Attempts one delivery and records the outcome; releases the claim and the slots whatever happens.</summary>
    private async Task AttemptAsync(Lane lane, DueDelivery delivery, CancellationToken stoppingToken)
    {
        // The lane must look again when this changes what it waits for: a retry to schedule, the
        // head of an ordered lane, a full lane. Plain successes need no look: the lane is busy
        // taking new deliveries anyway, and waking it for each would cost a read per delivery.
        var wake = true;
        try
        {
            var subscription = lane.Subscription;
            var result = await sender.SendAsync(lane.Url, lane.Key, delivery, stoppingToken);
            var record = Decide(subscription.Id, delivery, result, options.Schedule, time.GetUtcNow());
            await outbox.RecordAsync(record, stoppingToken);
            Count(record, result);
            wake = record.Status == DeliveryStatus.Pending || subscription.Ordered;
            if (record.Status == DeliveryStatus.Dead)
                Log.DeadLettered(logger, delivery.Id, subscription.Id, record.Attempt.Number, record.Attempt.Error);
            if (record.DisableReason is not null)
                Log.SubscriptionGone(logger, subscription.Id, subscription.Url);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failed record leaves the delivery pending: it is attempted again, never lost.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AttemptFailed(logger, delivery.Id, lane.Subscription.Id, e);
        }
        finally
        {
            bool full;
            lock (lane.Claimed)
            {
                full = lane.Claimed.Count >= lane.Capacity;
                lane.Claimed.Remove(delivery.Id);
            }

            lane.Slots.Release();
            global.Release();
            if (wake || full)
                lane.Wake.Set();
            Interlocked.Decrement(ref running);
        }
    }

    /// <summary>What an attempt's result does to its delivery: delivered, gone, retried on the schedule, or dead after the last attempt.</summary>
    internal static AttemptRecord Decide(string subscription, DueDelivery delivery, SendResult result, RetrySchedule schedule, DateTimeOffset now)
    {
        var attempts = delivery.Attempts + 1;
        var attempt = new WebhookAttempt(delivery.TotalAttempts + 1, now, result.StatusCode, result.LatencyMs, result.Error);
        var nowMs = now.ToUnixTimeMilliseconds();
        if (result.Succeeded)
            return new AttemptRecord(delivery.Id, subscription, attempt, DeliveryStatus.Delivered, attempts, nowMs, null);
        if (result.StatusCode == 410)
        {
            return new AttemptRecord(delivery.Id, subscription, attempt, DeliveryStatus.Dead, attempts, nowMs,
                $"The endpoint answered 410 Gone at {now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}.");
        }

        return attempts >= schedule.Attempts
            ? new AttemptRecord(delivery.Id, subscription, attempt, DeliveryStatus.Dead, attempts, nowMs, null)
            : new AttemptRecord(delivery.Id, subscription, attempt, DeliveryStatus.Pending, attempts, nowMs + (long)schedule.DelayBefore(attempts).TotalMilliseconds, null);
    }

    private static void Count(AttemptRecord record, SendResult result)
    {
        var outcome = result.Succeeded ? "delivered" : result.StatusCode == 410 ? "gone" : "failed";
        WebhookMetrics.Attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        WebhookMetrics.AttemptDuration.Record(result.LatencyMs);
        if (record.Status == DeliveryStatus.Delivered)
            WebhookMetrics.Delivered.Add(1);
        else if (record.Status == DeliveryStatus.Dead)
            WebhookMetrics.DeadLettered.Add(1);
    }
}
