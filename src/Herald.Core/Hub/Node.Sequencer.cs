using System.Threading.Channels;
using Herald.Engine;

namespace Herald.Hub;

public sealed partial class Node
{
    /// <summary>Publications read per log read while repairing a gap: the replay's page size.</summary>
    private const int RepairPageSize = 1000;

    /// <summary>Top checks in flight at once: a node following 100,000 channels does not open 100,000 reads.</summary>
    private const int MaxConcurrentTopChecks = 256;

    private enum WorkKind : byte
    {
        Publication,
        Initialized,
        Check,
        Event,
    }

    private readonly record struct Work(WorkKind Kind, ChannelEntry Entry, Publication? Publication, StreamState State, ChannelEvent? Event);

    /// <summary>
    /// Re-reads the tops of followed channels, many reads in flight at once (an engine such as
    /// Redis pipelines them), and hands each to its dispatcher, which repairs what is missing.
    /// </summary>
    /// <param name="all">After a broker reconnect: every channel. Otherwise only channels quiet for a
    /// whole <see cref="NodeOptions.TopCheckInterval"/> (a busy one reveals a gap with its next
    /// publication) — and only when the broker can lose messages — plus any marked for a check.</param>
    private async Task CheckTopsAsync(bool all)
    {
        var quietSince = _time.GetTimestamp() - Ticks(_options.TopCheckInterval);
        var due = new List<ChannelEntry>();
        foreach (var shard in _shards)
        {
            lock (shard.Lock)
            {
                foreach (var entry in shard.Channels.Values)
                {
                    if (entry.Ready.IsCompletedSuccessfully
                        && (all || entry.NeedsCheck || (_broker.MayLoseMessages && Volatile.Read(ref entry.LastActivity) < quietSince)))
                        due.Add(entry);
                }
            }
        }

        if (due.Count == 0)
            return;

        using var throttle = new SemaphoreSlim(MaxConcurrentTopChecks);
        var checks = new Task[due.Count];
        for (var i = 0; i < due.Count; i++)
            checks[i] = CheckTopAsync(due[i], throttle);
        await Task.WhenAll(checks).ConfigureAwait(false);
    }

    private async Task CheckTopAsync(ChannelEntry entry, SemaphoreSlim throttle)
    {
        await throttle.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            var state = await _log.GetStateAsync(entry.Channel, _stopping.Token).ConfigureAwait(false);
            entry.Shard.Post(new Work(WorkKind.Check, entry, null, state, null));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // The engine is unreachable: the next check tries again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TopCheckFailed(_logger, entry.Channel, ex);
        }
        finally
        {
            throttle.Release();
        }
    }

    /// <summary>One work item, on its shard's loop: every state change of a channel's sequencer happens here.</summary>
    private ValueTask ProcessAsync(in Work work)
    {
        var entry = work.Entry;
        if (entry.Removed)
            return ValueTask.CompletedTask;

        switch (work.Kind)
        {
            case WorkKind.Publication when !entry.Initialized:
                // Subscribed but the top is not read yet: its read decides what is new.
                (entry.Pending ??= []).Add(work.Publication!);
                return ValueTask.CompletedTask;
            case WorkKind.Publication:
                entry.LastActivity = _time.GetTimestamp();
                return SequenceAsync(entry, work.Publication!);
            case WorkKind.Initialized:
                return InitializeAsync(entry, work.State);
            case WorkKind.Check:
                return CheckAsync(entry, work.State);
            case WorkKind.Event:
            default:
                _hub.OnEvent(work.Event!);
                return ValueTask.CompletedTask;
        }
    }

    private async ValueTask InitializeAsync(ChannelEntry entry, StreamState state)
    {
        entry.Epoch = state.Epoch;
        entry.Last = state.Top;
        entry.Initialized = true;
        entry.LastActivity = _time.GetTimestamp();
        if (entry.Pending is not { } pending)
            return;

        entry.Pending = null;
        foreach (var publication in pending)
            await SequenceAsync(entry, publication).ConfigureAwait(false);
    }

    /// <summary>Delivers <paramref name="publication"/> if it is the next offset, after repairing a gap before it; drops what was delivered already.</summary>
    private ValueTask SequenceAsync(ChannelEntry entry, Publication publication)
    {
        // A channel never written when the node began to follow it: its first epoch is the one it gets.
        if (entry.Epoch.Length == 0 && entry.Last == 0)
            entry.Epoch = publication.Epoch;

        if (!string.Equals(publication.Epoch, entry.Epoch, StringComparison.Ordinal))
            return OnOtherEpochAsync(entry, publication);

        if (publication.Offset <= entry.Last)
        {
            Interlocked.Increment(ref _counters.Duplicates);
            return ValueTask.CompletedTask;
        }

        if (publication.Offset == entry.Last + 1)
        {
            Deliver(entry, publication);
            return ValueTask.CompletedTask;
        }

        return RepairThenDeliverAsync(entry, publication);
    }

    private async ValueTask RepairThenDeliverAsync(ChannelEntry entry, Publication publication)
    {
        if (await RepairAsync(entry, publication.Offset - 1).ConfigureAwait(false))
            Deliver(entry, publication);
    }

    /// <summary>
    /// A publication of another epoch: the log lost or removed the channel's history — or this is a
    /// straggler of an epoch already left behind. Only the log can tell which.
    /// </summary>
    private async ValueTask OnOtherEpochAsync(ChannelEntry entry, Publication publication)
    {
        StreamState state;
        try
        {
            state = await _log.GetStateAsync(entry.Channel, _stopping.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The engine is unreachable: a later check decides.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            entry.NeedsCheck = true;
            Log.TopCheckFailed(_logger, entry.Channel, ex);
            return;
        }

        if (!string.Equals(state.Epoch, publication.Epoch, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _counters.Duplicates);
            return;
        }

        Reset(entry, state);
    }

    private async ValueTask CheckAsync(ChannelEntry entry, StreamState state)
    {
        if (!entry.Initialized)
            return;

        entry.NeedsCheck = false;
        if (entry.Epoch.Length == 0 && entry.Last == 0)
            entry.Epoch = state.Epoch;

        if (string.Equals(state.Epoch, entry.Epoch, StringComparison.Ordinal))
        {
            if (state.Top > entry.Last)
                await RepairAsync(entry, state.Top).ConfigureAwait(false);
            return;
        }

        // Read before publications that may have moved the channel on since: ask again, now.
        StreamState now;
        try
        {
            now = await _log.GetStateAsync(entry.Channel, _stopping.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The engine is unreachable: a later check decides.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            entry.NeedsCheck = true;
            Log.TopCheckFailed(_logger, entry.Channel, ex);
            return;
        }

        if (string.Equals(now.Epoch, entry.Epoch, StringComparison.Ordinal))
        {
            if (now.Top > entry.Last)
                await RepairAsync(entry, now.Top).ConfigureAwait(false);
            return;
        }

        Reset(entry, now);
    }

    /// <summary>Reads and delivers offsets <c>Last + 1 … upTo</c> from the log; false (and a reset) when the log no longer has them.</summary>
    private async ValueTask<bool> RepairAsync(ChannelEntry entry, long upTo)
    {
        try
        {
            while (entry.Last < upTo)
            {
                var limit = (int)Math.Min(upTo - entry.Last, RepairPageSize);
                var page = await _log.ReadAsync(entry.Channel, new ReadRequest(entry.Last, limit), _stopping.Token).ConfigureAwait(false);
                if (page.Publications.Count == 0)
                {
                    Reset(entry, page.State);
                    return false;
                }

                foreach (var publication in page.Publications)
                {
                    if (publication.Offset != entry.Last + 1 || !string.Equals(publication.Epoch, entry.Epoch, StringComparison.Ordinal))
                    {
                        // Retention or a removal overtook the repair: continuing would leave a gap.
                        Reset(entry, page.State);
                        return false;
                    }

                    Interlocked.Increment(ref _counters.Repaired);
                    Deliver(entry, publication);
                    if (entry.Last >= upTo)
                        break;
                }
            }

            return true;
        }
#pragma warning disable CA1031 // The engine is unreachable: keep the position, and the next check repairs.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            entry.NeedsCheck = true;
            Log.RepairFailed(_logger, entry.Channel, entry.Last, upTo, ex);
            return false;
        }
    }

    private void Deliver(ChannelEntry entry, Publication publication)
    {
        entry.Last = publication.Offset;
        _hub.OnPublished(publication);
        _polls.OnPublished(publication);
        Summaries?.OnPublished(publication);
    }

    /// <summary>
    /// The channel's history is gone (another epoch, or offsets no longer retained): every local
    /// reader is told explicitly — sessions close with 3010 and resume with <c>recovered:false</c>,
    /// held polls answer with a reset — and the sequencer goes on from the log's current top.
    /// </summary>
    private void Reset(ChannelEntry entry, StreamState state)
    {
        Interlocked.Increment(ref _counters.Resets);
        Log.ChannelReset(_logger, entry.Channel, entry.Epoch, entry.Last, state.Epoch, state.Top);
        entry.Epoch = state.Epoch;
        entry.Last = state.Top;
        _hub.Reset(entry.Channel);
        _polls.Wake(entry.Channel);
    }

    /// <summary>A share of the node's channels: their table, under one lock, and the one loop that sequences and fans them out.</summary>
    private sealed class Shard
    {
        private readonly Node _node;
        private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

        public Shard(Node node)
        {
            _node = node;
            Completion = Task.Run(RunAsync);
        }

        public Lock Lock { get; } = new();

        public Dictionary<string, ChannelEntry> Channels { get; } = new(StringComparer.Ordinal);

        public Task Completion { get; }

        public void Post(in Work work) => _queue.Writer.TryWrite(work);

        public void Complete() => _queue.Writer.TryComplete();

        private async Task RunAsync()
        {
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var work))
                {
                    try
                    {
                        var pending = _node.ProcessAsync(work);
                        if (!pending.IsCompletedSuccessfully)
                            await pending.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (_node._stopping.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // One channel's failure must not stop the loop every channel of the shard shares.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        work.Entry.NeedsCheck = true;
                        Log.DispatchFailed(_node._logger, work.Entry.Channel, ex);
                    }
                }
            }
        }
    }
}
