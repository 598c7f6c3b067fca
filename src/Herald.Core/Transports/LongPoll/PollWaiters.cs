using System.Numerics;
using Herald.Log;

namespace Herald.Transports.LongPoll;

/// <summary>
/// Held long polls of this node, by channel: the sink wakes every poll waiting on a channel when
/// a publication is committed on it. A poll registers <em>before</em> it reads the log, so a
/// publication either is in what it reads or wakes it — never neither.
/// </summary>
/// <remarks>
/// A waiter is one-shot: the first publication on any of its channels completes it and takes the
/// channel's whole set out of the registry in one swap, so waking N polls costs one lock and N
/// <see cref="TaskCompletionSource{TResult}.TrySetResult"/> calls whose continuations run on the
/// thread pool, never on the store's commit path. Sets (not lists) so that the far more frequent
/// removal of a timed-out or abandoned poll is O(1) even with thousands held on one channel.
/// </remarks>
internal sealed class PollWaiters : IPublicationSink
{
    private readonly Shard[] _shards;
    private readonly int _mask;
    private int _count;
    private int _waiting;

    public PollWaiters()
    {
        // ProcessorCount × 4 shards, as the hub: registrations on different channels rarely meet.
        var count = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, Environment.ProcessorCount * 4));
        _shards = new Shard[count];
        for (var i = 0; i < count; i++)
            _shards[i] = new Shard();
        _mask = count - 1;
    }

    /// <summary>Polls registered now (each counted once, whatever its number of channels).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Polls that read the log, found nothing and now wait to be woken.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Registers a waiter for <paramref name="channels"/>; dispose it to unregister.</summary>
    public PollWaiter Register(IReadOnlyList<string> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        var waiter = new PollWaiter(this, channels);
        foreach (var channel in channels)
        {
            var shard = ShardFor(channel);
            lock (shard.Lock)
            {
                if (!shard.Channels.TryGetValue(channel, out var set))
                    shard.Channels[channel] = set = new HashSet<PollWaiter>(ReferenceEqualityComparer.Instance);
                set.Add(waiter);
            }
        }

        Interlocked.Increment(ref _count);
        return waiter;
    }

    public void OnPublished(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        var shard = ShardFor(publication.Channel);
        HashSet<PollWaiter>? set;
        lock (shard.Lock)
        {
            if (!shard.Channels.Remove(publication.Channel, out set))
                return;
        }

        foreach (var waiter in set)
            waiter.Complete(woken: true);
    }

    internal void Unregister(PollWaiter waiter)
    {
        foreach (var channel in waiter.Channels)
        {
            var shard = ShardFor(channel);
            lock (shard.Lock)
            {
                // Absent when a publication already took the channel's set.
                if (shard.Channels.TryGetValue(channel, out var set) && set.Remove(waiter) && set.Count == 0)
                    shard.Channels.Remove(channel);
            }
        }

        Interlocked.Decrement(ref _count);
    }

    internal void AddWaiting(int delta) => Interlocked.Add(ref _waiting, delta);

    private Shard ShardFor(string channel) =>
        _shards[StringComparer.Ordinal.GetHashCode(channel) & _mask];

    private sealed class Shard
    {
        public readonly Lock Lock = new();
        public readonly Dictionary<string, HashSet<PollWaiter>> Channels = new(StringComparer.Ordinal);
    }
}

/// <summary>One held poll's wake-up: completes with true on a publication, false on timeout, abort or shutdown.</summary>
internal sealed class PollWaiter : IDisposable
{
    private readonly PollWaiters _owner;
    private readonly TaskCompletionSource<bool> _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    internal PollWaiter(PollWaiters owner, IReadOnlyList<string> channels)
    {
        _owner = owner;
        Channels = channels;
    }

    public IReadOnlyList<string> Channels { get; }

    /// <summary>Waits until a publication on one of the channels, or <paramref name="expiry"/> is cancelled.</summary>
    /// <returns>True when a publication woke the poll; false on expiry.</returns>
    public async Task<bool> WaitAsync(CancellationToken expiry)
    {
        _owner.AddWaiting(1);
        try
        {
            using (expiry.UnsafeRegister(static state => ((PollWaiter)state!).Complete(woken: false), this))
                return await _signal.Task;
        }
        finally
        {
            _owner.AddWaiting(-1);
        }
    }

    /// <summary>Completes the wait (first call wins); <paramref name="woken"/> false means timeout, abort or shutdown.</summary>
    public void Complete(bool woken) => _signal.TrySetResult(woken);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _signal.TrySetResult(false);
        _owner.Unregister(this);
    }
}
