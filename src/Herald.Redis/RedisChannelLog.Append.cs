using Herald.Engine;
using StackExchange.Redis;

namespace Herald.Redis;

public sealed partial class RedisChannelLog
{
    /// <summary>
    /// Notes a partition's era and write counter as a script returned them. A counter lower than
    /// one already seen in the same era means Redis went back in time: the partition is moved to a
    /// new era (unless another node just did) and true is returned, so the caller reads again.
    /// </summary>
    private async ValueTask<bool> ObserveAsync(int partition, string era, long writeCounter)
    {
        var watch = _eras[partition];
        string seen;
        lock (watch.Lock)
        {
            if (!string.Equals(watch.Era, era, StringComparison.Ordinal))
            {
                // A new era (or the first look): counting starts over in it.
                watch.Era = era;
                watch.MaxWriteCounter = writeCounter;
                return false;
            }

            if (writeCounter >= watch.MaxWriteCounter)
            {
                watch.MaxWriteCounter = writeCounter;
                return false;
            }

            seen = watch.Era;
        }

        await RotateEraAsync(partition, seen, $"its write counter went back from {watch.MaxWriteCounter} to {writeCounter}").ConfigureAwait(false);
        return true;
    }

    /// <summary>Moves a partition from <paramref name="seen"/> to a new era, if it is still in it.</summary>
    internal async Task RotateEraAsync(int partition, string seen, string reason)
    {
        var next = Epochs.New();
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.RotateEra, [_keys.Era(partition)], [seen, next])).ConfigureAwait(false);
        if ((long)result == 1)
        {
            Interlocked.Increment(ref _rotations);
            RedisLog.EraRotated(_logger, partition, seen, next, reason);
        }
    }

    /// <summary>Sends the queued appends of one partition, one script call at a time.</summary>
    private async Task SendBatchAsync(int partition, List<PendingAppend> batch)
    {
        var live = new List<PendingAppend>(batch.Count);
        foreach (var append in batch)
        {
            if (append.CancellationToken.IsCancellationRequested)
                append.TrySetCanceled(append.CancellationToken);
            else if (Volatile.Read(ref _disposed) != 0)
                append.TrySetException(new ObjectDisposedException(nameof(RedisChannelLog)));
            else
                live.Add(append);
        }

        if (live.Count == 0)
            return;

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        RedisResult[] results;
        try
        {
            var era = string.Empty;
            results = [];
            // Twice at most: a stale subscriptions snapshot is reloaded once, then matched again.
            for (var attempt = 0; ; attempt++)
            {
                var outbox = Outbox;
                var snapshot = outbox?.Current ?? RedisOutboxSnapshot.None;
                var (keys, values) = BatchArguments(partition, live, now, snapshot);
                var raw = (RedisResult[])(await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Append, keys, values)).ConfigureAwait(false))!;
                if (raw.Length == 1 && (string?)raw[0] == "stale")
                {
                    if (outbox is null || attempt > 0)
                        throw new InvalidOperationException("The webhook subscriptions changed while the append was matched against them; retry.");
                    await outbox.ReloadAsync().ConfigureAwait(false);
                    continue;
                }

                era = (string)raw[0]!;
                results = (RedisResult[])raw[1]!;
                break;
            }

            long last = 0;
            foreach (var result in results)
            {
                var fields = (RedisResult[])result!;
                if ((string)fields[0]! == "a")
                    last = (long)fields[3];
            }

            if (last > 0)
                await ObserveAsync(partition, era, last).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever failed, every append of the batch must learn it instead of hanging.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var append in live)
                append.TrySetException(ex is EngineUnavailableException ? ex : new InvalidOperationException($"The Redis channel log could not append: {ex.Message}", ex));
            return;
        }

        for (var i = 0; i < live.Count; i++)
        {
            var append = live[i];
            var request = append.Request;
            var fields = (RedisResult[])results[i]!;
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
    private (RedisKey[] Keys, RedisValue[] Values) BatchArguments(int partition, List<PendingAppend> live, long now, RedisOutboxSnapshot outbox)
    {
        var keys = new RedisKey[RedisScripts.AppendHeaderKeys + 3 * live.Count];
        var values = new RedisValue[RedisScripts.AppendHeaderArgs + RedisScripts.AppendArgs * live.Count];
        keys[0] = _keys.Era(partition);
        keys[1] = _keys.WriteCounter(partition);
        keys[2] = _keys.SubscriptionVersion(partition);
        keys[3] = _keys.Outbox(partition);
        values[0] = now;
        values[1] = Epochs.New();
        values[2] = (long)_options.MetaTtl.TotalMilliseconds;
        values[3] = live.Count;
        values[4] = outbox.Version;
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
            values[a] = Epochs.New();
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

    /// <summary>One partition's appends: queued while a script call is in flight, then sent together, in order.</summary>
    private sealed class PartitionWriter(RedisChannelLog log, int partition)
    {
        private readonly Lock _lock = new();
        private List<PendingAppend> _queue = [];
        private bool _sending;

        public void Enqueue(PendingAppend append)
        {
            lock (_lock)
            {
                _queue.Add(append);
                if (_sending)
                    return;
                _sending = true;
            }

            _ = Task.Run(SendAllAsync);
        }

        private async Task SendAllAsync()
        {
            var max = log._options.MaxBatchSize;
            while (true)
            {
                List<PendingAppend> batch;
                lock (_lock)
                {
                    if (_queue.Count == 0)
                    {
                        _sending = false;
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

                await log.SendBatchAsync(partition, batch).ConfigureAwait(false);
            }
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
    }
}
