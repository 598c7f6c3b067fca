using System.Globalization;
using Herald.Webhooks;
using Herald.Webhooks.Outbound;
using StackExchange.Redis;

namespace Herald.Redis;

internal sealed partial class RedisWebhookStore
{
    // 256 entries per script call: a few milliseconds of Redis at most, and few calls for a burst.
    private const int DrainBatch = 256;

    // Every second each node looks for entries no node made into deliveries (the node that
    // appended them died first) and sweeps finished deliveries past the retention: one XLEN per
    // partition, about 100 µs of Redis for 128 partitions.
    private const long BacklogEveryMs = 1000;
    private const int SweepBatch = 4096;

    // 512 leases renewed per call: a few hundred microseconds of Redis.
    private const int LeaseBatch = 512;

    private readonly int[] _dirty;
    private readonly SemaphoreSlim _pumpGate = new(1, 1);
    private readonly AsyncWake _wake = new();
    private readonly Task _pumpLoop;
    private readonly Task _leaseLoop;
    // Partitions marked so far, and how many of those marks a finished pump covered: a read waits
    // for a pump when they differ, even one that another caller has under way.
    private long _marks;
    private long _pumped;
    private long _nextBacklog;
    private long _nextSweepMs;

    /// <summary>
    /// Makes deliveries from the outbox entries of the partitions this node appended to, and from
    /// any partition with entries waiting (found once a second). Then takes over, with XAUTOCLAIM,
    /// entries that a failed materialization left pending for longer than the lease.
    /// </summary>
    /// <param name="needed">Return at once when a pump finished meanwhile covered this many marks (a read waiting behind it).</param>
    internal async Task PumpAsync(bool backlog, CancellationToken cancellationToken, long needed = long.MaxValue)
    {
        await _pumpGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!backlog && Volatile.Read(ref _pumped) >= needed)
                return;

            // Every mark counted here set its flag first, so this pump drains it.
            var marks = Volatile.Read(ref _marks);
            var partitions = new List<int>();
            for (var p = 0; p < _dirty.Length; p++)
            {
                if (Interlocked.Exchange(ref _dirty[p], 0) != 0)
                    partitions.Add(p);
            }

            var waiting = backlog ? await BacklogAsync().ConfigureAwait(false) : [];
            foreach (var p in waiting)
            {
                if (!partitions.Contains(p))
                    partitions.Add(p);
            }

            try
            {
                await Task.WhenAll(partitions.Select(p => DrainAsync(p, claimIdleMs: null))).ConfigureAwait(false);
            }
            catch
            {
                // Not woken again: the loop waits a second after a failure; a read tries at once.
                foreach (var p in partitions)
                    MarkDirty(p, wake: false);
                throw;
            }

            Volatile.Write(ref _pumped, marks);
            if (waiting.Length > 0)
                await Task.WhenAll(waiting.Select(p => DrainAsync(p, claimIdleMs: _leaseMs))).ConfigureAwait(false);
        }
        finally
        {
            _pumpGate.Release();
        }
    }

    /// <summary>Extends the leases of every delivery this node holds (every third of the lease).</summary>
    internal Task RenewLeasesAsync() => LeaseAsync("r");

    /// <summary>Before a read of the outbox: what this node appended is made into deliveries first.</summary>
    private async ValueTask CatchUpAsync(CancellationToken cancellationToken)
    {
        var marks = Volatile.Read(ref _marks);
        if (Volatile.Read(ref _pumped) < marks)
            await PumpAsync(backlog: false, cancellationToken, needed: marks).ConfigureAwait(false);
    }

    private void MarkDirty(int partition, bool wake)
    {
        Volatile.Write(ref _dirty[partition], 1);
        Interlocked.Increment(ref _marks);
        if (wake)
            _wake.Set();
    }

    private async Task<int[]> BacklogAsync()
    {
        var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisWebhookScripts.Backlog, _outboxKeys).ConfigureAwait(false))!;
        return [.. raw.Select(r => (int)r)];
    }

    /// <param name="claimIdleMs">Null: new entries (XREADGROUP). Else: entries pending longer than this (XAUTOCLAIM).</param>
    private async Task DrainAsync(int partition, long? claimIdleMs)
    {
        RedisKey[] keys = [_outboxKeys[partition], _w.Subscriptions, _w.NextId, _w.All];
        var firstDelayMs = (long)_options.Schedule.DelayBefore(0).TotalMilliseconds;
        var idle = claimIdleMs?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
        while (true)
        {
            var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(
                RedisWebhookScripts.Materialize,
                keys,
                [Group, NodeId, DrainBatch, firstDelayMs, _w.Prefix, idle]).ConfigureAwait(false))!;
            var read = (long)raw[0];
            var made = (long)raw[1];
            if (made > 0)
            {
                WebhookMetrics.DeliveriesCreated.Add(made);
                foreach (var subscription in (RedisResult[])raw[2]!)
                    _signal.Queued((string)subscription!);
            }

            if (claimIdleMs is not null && read > 0)
                RedisWebhookLog.Reclaimed(_logger, read, partition);
            if (read < 0)
                continue;
            if (read < DrainBatch)
                return;
        }
    }

    private async Task PumpLoopAsync()
    {
        var token = _stopping.Token;
        var failing = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(BacklogEveryMs), token).ConfigureAwait(false);
                var backlog = Environment.TickCount64 >= Volatile.Read(ref _nextBacklog);
                if (backlog)
                    Volatile.Write(ref _nextBacklog, Environment.TickCount64 + BacklogEveryMs);
                await PumpAsync(backlog, token).ConfigureAwait(false);
                if (backlog)
                    await SweepIfDueAsync().ConfigureAwait(false);
                failing = false;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Redis may be down: the entries wait in their streams, the next round takes them.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Once per outage: Redis being down is reported by the connection already.
                if (!failing)
                    RedisWebhookLog.PumpFailed(_logger, ex);
                failing = true;
                await Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Every third of the lease: renews this node's leases, then wakes lanes for deliveries that came due elsewhere.</summary>
    private async Task LeaseLoopAsync()
    {
        var token = _stopping.Token;
        // A third of the lease: two renewals may fail or come late before another node takes over.
        var period = TimeSpan.FromMilliseconds(Math.Max(100, _leaseMs / 3));
        var failing = false;
        while (!token.IsCancellationRequested)
        {
            await Delay(period, token).ConfigureAwait(false);
            if (token.IsCancellationRequested)
                return;
            try
            {
                await RenewLeasesAsync().ConfigureAwait(false);
                await WakeReadyAsync().ConfigureAwait(false);
                failing = false;
            }
#pragma warning disable CA1031 // A lease not renewed runs out: another node attempts the delivery again (at least once).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!failing)
                    RedisWebhookLog.RenewFailed(_logger, ex);
                failing = true;
            }
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Task ReleaseLeasesAsync() => LeaseAsync("f");

    /// <summary>
    /// Wakes this node's lanes of the subscriptions that have deliveries due now that no lane here
    /// expects: leases of a dead node that ran out, deliveries another node made and died before
    /// taking. Without it such a lane would sleep until its next safety poll (30 s).
    /// </summary>
    private async Task WakeReadyAsync()
    {
        var enabled = _loaded.Enabled;
        var now = NowMs();
        foreach (var chunk in enabled.Chunk(1000))
        {
            var keys = new RedisKey[chunk.Length];
            for (var i = 0; i < chunk.Length; i++)
                keys[i] = _w.Due(chunk[i]);
            var ready = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisWebhookScripts.Ready, keys, [now]).ConfigureAwait(false))!;
            foreach (var index in ready)
                _signal.Queued(chunk[(int)index]);
        }
    }

    /// <summary>Renews ('r') or gives back ('f') the leases this node holds; forgets those it lost.</summary>
    private async Task LeaseAsync(string mode)
    {
        long[] ids;
        lock (_held)
            ids = [.. _held.Keys];
        if (ids.Length == 0)
            return;

        var until = NowMs() + _leaseMs;
        foreach (var chunk in ids.Chunk(LeaseBatch))
        {
            var values = new RedisValue[4 + chunk.Length];
            values[0] = _w.Prefix;
            values[1] = NodeId;
            values[2] = mode;
            values[3] = until;
            for (var i = 0; i < chunk.Length; i++)
                values[4 + i] = chunk[i];
            var lost = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisWebhookScripts.Lease, values: values).ConfigureAwait(false))!;
            lock (_held)
            {
                if (mode == "f")
                {
                    foreach (var id in chunk)
                        _held.Remove(id);
                }
                else
                {
                    foreach (var id in lost)
                        _held.Remove((long)id);
                }
            }
        }
    }

    /// <summary>Deletes finished deliveries past the retention, at most once a second (from a record or the pump).</summary>
    private async Task SweepIfDueAsync()
    {
        var now = NowMs();
        var next = Volatile.Read(ref _nextSweepMs);
        if (now < next || Interlocked.CompareExchange(ref _nextSweepMs, now + BacklogEveryMs, next) != next)
            return;
        var cutoff = now - (long)_options.DeliveryRetention.TotalMilliseconds;
        await Db.ScriptEvaluateAsync(RedisWebhookScripts.Sweep, [_w.All], [_w.Prefix, cutoff, SweepBatch]).ConfigureAwait(false);
    }
}
