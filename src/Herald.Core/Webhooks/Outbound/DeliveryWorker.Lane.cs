namespace Herald.Webhooks.Outbound;

internal sealed partial class DeliveryWorker
{
    /// <summary>
    /// One subscription's loop: take what is due, attempt it within the lane's and the worker's
    /// concurrency limits, and sleep until the next delivery is due or the store says there is news.
    /// A changed subscription gets a new lane; the claims outlive it, so nothing in flight is taken twice.
    /// </summary>
    private sealed class Lane
    {
        private readonly DeliveryWorker worker;
        private readonly CancellationTokenSource stop;
        private readonly CancellationToken stoppingToken;
        private Task loop = Task.CompletedTask;

        public Lane(DeliveryWorker worker, WebhookSubscription subscription, HashSet<long> claimed, CancellationToken stoppingToken)
        {
            this.worker = worker;
            this.stoppingToken = stoppingToken;
            Subscription = subscription;
            Claimed = claimed;
            Url = new Uri(subscription.Url);
            Key = StandardWebhooksSignature.DecodeSecret(subscription.Secret) ?? [];
            Capacity = subscription.Ordered ? 1 : worker.options.MaxConcurrencyPerSubscription;
            Slots = new SemaphoreSlim(Capacity);
            stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        }

        public WebhookSubscription Subscription { get; }

        public Uri Url { get; }

        public byte[] Key { get; }

        public int Capacity { get; }

        /// <summary>Deliveries being attempted (shared with the subscription's earlier and later lanes); lock it to touch it.</summary>
        public HashSet<long> Claimed { get; }

        public SemaphoreSlim Slots { get; }

        public AsyncWake Wake { get; } = new();

        public void Start() => loop = Task.Run(RunAsync);

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
        }

        private async Task RunAsync()
        {
            var token = stop.Token;
            while (!token.IsCancellationRequested)
            {
                HashSet<long> claimed;
                lock (Claimed)
                    claimed = [.. Claimed];
                if (claimed.Count >= Capacity)
                {
                    await Wake.WaitAsync(SafetyPoll, token);
                    continue;
                }

                var now = worker.time.GetUtcNow().ToUnixTimeMilliseconds();
                DueBatch batch;
                try
                {
                    batch = await worker.outbox.TakeDueAsync(Subscription.Id, Subscription.Ordered, now, FetchSize, claimed, token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.TakeFailed(worker.logger, Subscription.Id, e);
                    await Wake.WaitAsync(TimeSpan.FromSeconds(1), token);
                    continue;
                }

                if (batch.Due.Count == 0)
                {
                    var wait = batch.NextDueMs is { } next ? TimeSpan.FromMilliseconds(Math.Clamp(next - now, 1, (long)SafetyPoll.TotalMilliseconds)) : SafetyPoll;
                    await Wake.WaitAsync(wait, token);
                    continue;
                }

                lock (Claimed)
                {
                    foreach (var delivery in batch.Due)
                        Claimed.Add(delivery.Id);
                }

                var started = 0;
                try
                {
                    foreach (var delivery in batch.Due)
                    {
                        await Slots.WaitAsync(token);
                        try
                        {
                            await worker.global.WaitAsync(token);
                        }
                        catch
                        {
                            Slots.Release();
                            throw;
                        }

                        Interlocked.Increment(ref worker.running);
                        started++;
                        _ = worker.AttemptAsync(this, delivery, stoppingToken);
                    }
                }
                finally
                {
                    // Stopped before attempting them: they stay pending for the next lane.
                    if (started < batch.Due.Count)
                    {
                        lock (Claimed)
                        {
                            foreach (var delivery in batch.Due.Skip(started))
                                Claimed.Remove(delivery.Id);
                        }
                    }
                }
            }
        }
    }
}

/// <summary>An auto-reset wake-up for one waiter: <see cref="Set"/> before or during a wait ends it once.</summary>
internal sealed class AsyncWake
{
    private readonly Lock gate = new();
    private TaskCompletionSource? waiter;
    private bool set;

    public void Set()
    {
        TaskCompletionSource? woken;
        lock (gate)
        {
            woken = waiter;
            waiter = null;
            set = woken is null;
        }

        woken?.TrySetResult();
    }

    /// <summary>Waits for <see cref="Set"/> or <paramref name="timeout"/>; throws only when <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiting;
        lock (gate)
        {
            if (set)
            {
                set = false;
                return;
            }

            waiting = waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        try
        {
            await waiting.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            lock (gate)
            {
                if (waiter == waiting)
                    waiter = null;
            }
        }
    }
}
