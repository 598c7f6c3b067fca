using Herald.Engine;
using StackExchange.Redis;

namespace Herald.Redis;

public sealed partial class RedisChannelLog
{
    /// <summary>
    /// Sends one batch of a partition's queued appends in one script call. Up to
    /// <see cref="RedisEngineOptions.MaxCallsInFlight"/> calls of a partition are in flight; their
    /// answers are handled in the order the calls were written to the connection, which is the order
    /// Redis ran them, so acknowledgements and the sink see each channel's offsets in order. A call
    /// answered 'stale' or 'behind' changed nothing: its appends go back to the front of the queue
    /// (after the snapshot is reloaded or the era rotated) and ride in a later call.
    /// </summary>
    private async Task SendBatchAsync(PartitionWriter writer, int partition, List<PendingAppend> batch)
    {
        var live = new List<PendingAppend>(batch.Count);
        foreach (var append in batch)
        {
            if (append.CancellationToken.IsCancellationRequested)
                append.TrySetCanceled(append.CancellationToken);
            else if (Volatile.Read(ref _disposed) != 0)
                append.TrySetException(new ObjectDisposedException(nameof(RedisChannelLog)));
            else if (append.Attempts++ > 3)
                append.TrySetException(new InvalidOperationException("The append could not be made: the partition kept changing under it; retry."));
            else
                live.Add(append);
        }

        if (live.Count == 0)
            return;

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var outbox = Outbox;
        var snapshot = outbox?.Current ?? RedisOutboxSnapshot.None;
        var sent = Watermark(partition);
        var (keys, values) = BatchArguments(partition, live, now, snapshot, sent);
        // The caller holds the writer's order lock from taking the batch off the queue until here:
        // the calls are written to the connection in queue order, Redis runs them in that order, and
        // the chain below hands their answers on in that order too.
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var previous = writer.LastHandled;
        writer.LastHandled = handled.Task;
        var call = RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Append, keys, values));

        RedisResult[] results;
        try
        {
            RedisResult[] raw;
            try
            {
                raw = (RedisResult[])(await call.ConfigureAwait(false))!;
            }
            finally
            {
                await previous.ConfigureAwait(false);
            }

            if (raw.Length == 1 && (string?)raw[0] == "stale")
            {
                if (outbox is null)
                    throw new InvalidOperationException("The partition holds webhook subscriptions this log was given no outbox for.");
                await outbox.ReloadAsync().ConfigureAwait(false);
                writer.Requeue(live);
                handled.TrySetResult();
                return;
            }

            if (raw.Length == 3 && (string?)raw[0] == "behind")
            {
                var current = (string)raw[1]!;
                await RotateEraAsync(partition, current, RedisEras.Why(current, (long)raw[2], sent, "at an append")).ConfigureAwait(false);
                writer.Requeue(live);
                handled.TrySetResult();
                return;
            }

            var era = (string)raw[0]!;
            results = (RedisResult[])raw[1]!;
            long last = 0;
            foreach (var result in results)
            {
                var fields = (RedisResult[])result!;
                if ((string)fields[0]! == "a")
                    last = (long)fields[3];
            }

            if (last > 0)
                await ObserveAsync(partition, era, last, sent).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever failed, every append of the batch must learn it instead of hanging.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var append in live)
                append.TrySetException(ex is EngineUnavailableException ? ex : new InvalidOperationException($"The Redis channel log could not append: {ex.Message}", ex));
            handled.TrySetResult();
            return;
        }

        try
        {
            Complete(live, results, now);
        }
        finally
        {
            handled.TrySetResult();
        }
    }

    /// <summary>Acknowledges each append of a call with its answer (and tells the sink of the appended ones).</summary>
    private void Complete(List<PendingAppend> live, RedisResult[] results, long now)
    {
        for (var i = 0; i < live.Count; i++)
        {
            var append = live[i];
            var request = append.Request;
            var fields = (RedisResult[])results[i]!;
            if ((string)fields[0]! == "e")
            {
                // The script stopped at an append it could not make; nothing of this one was applied.
                append.TrySetException(new InvalidOperationException($"The Redis channel log could not append: {(string?)fields[1]}"));
                continue;
            }

            var epoch = (string)fields[1]!;
            var offset = (long)fields[2];
            if ((string)fields[0]! == "a")
            {
                var publication = new Publication
                {
                    Channel = request.Channel,
                    Offset = offset,
                    Epoch = epoch,
                    Id = append.Id,
                    Time = DateTimeOffset.FromUnixTimeMilliseconds(now),
                    From = request.From,
                    Type = request.Type,
                    Meta = request.Meta,
                    Data = request.Data,
                    N = (long)fields[4],
                    Countable = request.Countable,
                };
                // The sink first: what it does is done once the publish is acknowledged (the
                // webhook store then shows the publication's deliveries to every read on this node).
                Tell(publication);
                append.TrySetResult(new AppendResult(publication, Duplicate: false));
            }
            else
            {
                var stored = (RedisResult[])fields[6]!;
                var original = stored.Length > 0
                    ? FromFields(request.Channel, epoch, offset, stored)
                    : new Publication
                    {
                        // The original was trimmed from history: its position and id remain, its data does not.
                        Channel = request.Channel,
                        Offset = offset,
                        Epoch = epoch,
                        Id = (string)fields[3]!,
                        Time = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)fields[4]!, System.Globalization.CultureInfo.InvariantCulture)),
                        Data = ReadOnlyMemory<byte>.Empty,
                    };
                append.TrySetResult(new AppendResult(original, Duplicate: true, KeyReused: (string)fields[5]! == "1"));
            }
        }
    }

    /// <summary>The append script's KEYS and ARGV for a batch (see <see cref="RedisScripts.Append"/>).</summary>
    private (RedisKey[] Keys, RedisValue[] Values) BatchArguments(int partition, List<PendingAppend> live, long now, RedisOutboxSnapshot outbox, (string Era, long WriteCounter) seen)
    {
        var keys = new RedisKey[RedisScripts.AppendHeaderKeys + 3 * live.Count];
        var values = new RedisValue[RedisScripts.AppendHeaderArgs + RedisScripts.AppendArgs * live.Count];
        keys[0] = _keys.Era(partition);
        keys[1] = _keys.WriteCounter(partition);
        keys[2] = _keys.SubscriptionVersion(partition);
        keys[3] = _keys.Outbox(partition);
        // One fresh epoch serves every append of the call: it names a new generation of whichever
        // channel starts one here, and epochs are compared per channel, never across channels.
        var epoch = Epochs.New();
        values[0] = now;
        values[1] = epoch;
        values[2] = (long)_options.MetaTtl.TotalMilliseconds;
        values[3] = live.Count;
        values[4] = outbox.Version;
        values[5] = seen.Era;
        values[6] = seen.WriteCounter;
        for (var i = 0; i < live.Count; i++)
        {
            var request = live[i].Request;
            var channel = request.Channel;
            var meta = _keys.Meta(partition, channel);
            var k = RedisScripts.AppendHeaderKeys + i * 3;
            keys[k] = meta;
            keys[k + 1] = _keys.Stream(partition, channel);
            keys[k + 2] = request.IdempotencyKey is { } key ? _keys.Idempotency(partition, channel, key) : meta;

            if (live[i].Id.Length == 0)
                live[i].Id = Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(now)).ToString("N");
            var a = RedisScripts.AppendHeaderArgs + i * RedisScripts.AppendArgs;
            values[a] = epoch;
            values[a + 1] = Math.Max(1, request.Retention.HistorySize);
            values[a + 2] = Math.Max(1L, (long)request.Retention.HistoryTtl.TotalMilliseconds);
            values[a + 3] = Math.Max(1L, (long)request.Retention.IdempotencyWindow.TotalMilliseconds);
            values[a + 4] = request.IdempotencyKey is null ? "0" : "1";
            values[a + 5] = live[i].Fingerprint;
            values[a + 6] = live[i].Id;
            values[a + 7] = request.From ?? string.Empty;
            values[a + 8] = request.Type ?? string.Empty;
            values[a + 9] = request.Meta ?? [];
            values[a + 10] = request.Data;
            values[a + 11] = _keys.PubSubName(partition, channel);
            values[a + 12] = channel;
            var subscriptions = outbox.Match(channel);
            values[a + 13] = subscriptions.Count == 0 ? string.Empty : string.Join(',', subscriptions);
            values[a + 14] = request.Countable ? "1" : "0";
        }

        return (keys, values);
    }

    private void Tell(Publication publication)
    {
        if (_sink is null)
            return;
        try
        {
            _sink.OnPublished(publication);
        }
#pragma warning disable CA1031 // A failing sink must not fail the partition's writer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisLog.SinkFailed(_logger, publication.Channel, publication.Offset, ex);
        }
    }

    /// <summary>
    /// One partition's appends: queued, then sent in order by up to <see cref="RedisEngineOptions.MaxCallsInFlight"/>
    /// script calls at a time, each taking what is queued when it starts.
    /// </summary>
    private sealed class PartitionWriter(RedisChannelLog log, int partition)
    {
        private readonly Lock _lock = new();
        private List<PendingAppend> _queue = [];
        private int _senders;

        /// <summary>Held from taking a batch off the queue until its call is written to the connection and chained.</summary>
        public Lock OrderLock { get; } = new();

        /// <summary>Completes when the answer of the last call written has been handled.</summary>
        public Task LastHandled { get; set; } = Task.CompletedTask;

        /// <summary>Puts appends whose call changed nothing back at the front of the queue, in their order.</summary>
        public void Requeue(List<PendingAppend> appends)
        {
            lock (_lock)
                _queue.InsertRange(0, appends);
        }

        public void Enqueue(PendingAppend append)
        {
            lock (_lock)
            {
                _queue.Add(append);
                if (_senders >= log._options.MaxCallsInFlight)
                    return;
                _senders++;
            }

            _ = Task.Run(SendAllAsync);
        }

        private async Task SendAllAsync()
        {
            var max = log._options.MaxBatchSize;
            var sent = 0;
            while (true)
            {
                // The appends of the batch just answered were completed on the thread pool; callers
                // that append again at once (a busy publisher, a retry) do so in those continuations.
                // One yield lets them queue behind the batch that is forming instead of riding alone
                // in the next script call.
                if (sent > 0 && QueuedCount() < sent)
                    await Task.Yield();

                List<PendingAppend> batch;
                Task sending;
                lock (OrderLock)
                {
                    lock (_lock)
                    {
                        if (_queue.Count == 0)
                        {
                            _senders--;
                            return;
                        }

                        if (_queue.Count <= max)
                        {
                            batch = _queue;
                            _queue = [];
                        }
                        else
                        {
                            batch = _queue.GetRange(0, max);
                            _queue.RemoveRange(0, max);
                        }
                    }

                    // Runs up to its first wait under the lock: the call is written before the next batch is taken.
                    sending = log.SendBatchAsync(this, partition, batch);
                }

                await sending.ConfigureAwait(false);
                sent = batch.Count;
            }
        }

        private int QueuedCount()
        {
            lock (_lock)
                return _queue.Count;
        }
    }

    /// <summary>An append waiting for its partition's script call; its own completion source.</summary>
    private sealed class PendingAppend(AppendRequest request, CancellationToken cancellationToken)
        : TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AppendRequest Request { get; } = request;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public required string Fingerprint { get; init; }

        public string Id { get; set; } = string.Empty;

        /// <summary>Script calls this append was sent in (a 'stale' or 'behind' answer sends it again).</summary>
        public int Attempts { get; set; }
    }
}
