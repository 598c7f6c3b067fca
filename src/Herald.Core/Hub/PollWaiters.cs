using System.Numerics;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// Held long polls of this node, by channel: the node's sequencer wakes every poll waiting on a
/// channel with the next publication of it, which a poll that was current answers without
/// reading the log again. A poll registers <em>before</em> it reads the log (and waits until the
/// node follows its channels), so a publication either is in what it reads or wakes it — never
/// neither.
/// </summary>
/// <remarks>
/// A waiter is one-shot: the first publication on any of its channels completes it and takes the
/// channel's whole set out of the registry in one swap, so waking N polls costs one lock and N
/// <see cref="TaskCompletionSource{TResult}.TrySetResult"/> calls whose continuations run on the
/// thread pool, never on the store's commit path. Sets (not lists) so that the far more frequent
/// removal of a timed-out or abandoned poll is O(1) even with thousands held on one channel.
/// </remarks>
public sealed class PollWaiters : IPublicationSink
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

    /// <summary>Told of each channel's first and last held poll: the node, which follows the channel meanwhile. Null when used alone.</summary>
    public IChannelInterest? Interest { get; set; }

    /// <summary>Polls registered now (each counted once, whatever its number of channels).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Polls that read the log, found nothing and now wait to be woken.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Registers a waiter for <paramref name="channels"/>; dispose it to unregister. Read the log
    /// only once <see cref="PollWaiter.Following"/> completed: from then on every publication of
    /// the channels wakes the waiter.
    /// </summary>
    public PollWaiter Register(IReadOnlyList<string> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        var waiter = new PollWaiter(this, channels);
        Task[]? following = null;
        for (var i = 0; i < channels.Count; i++)
        {
            var channel = channels[i];
            var shard = ShardFor(channel);
            lock (shard.Lock)
            {
                if (!shard.Channels.TryGetValue(channel, out var set))
                    shard.Channels[channel] = set = new HashSet<PollWaiter>(ReferenceEqualityComparer.Instance);
                set.Add(waiter);
                if (Interest is { } interest)
                    (following ??= new Task[channels.Count])[i] = set.Count == 1 ? interest.Acquire(channel) : interest.WhenReady(channel);
            }
        }

        waiter.Following = following is null ? Task.CompletedTask : Task.WhenAll(following);
        Interlocked.Increment(ref _count);
        return waiter;
    }

    /// <summary>Wakes every poll held on the channel with this publication (the channel's next, in order, when the node calls it).</summary>
    public void OnPublished(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        Wake(publication.Channel, publication);
    }

    /// <summary>Wakes every poll held on the channel to read the log again (its history was reset).</summary>
    public void Wake(string channel) => Wake(channel, PollWaiter.Reread);

    private void Wake(string channel, object reason)
    {
        var shard = ShardFor(channel);
        HashSet<PollWaiter>? set;
        lock (shard.Lock)
        {
            if (!shard.Channels.Remove(channel, out set))
                return;
            Interest?.Release(channel);
        }

        foreach (var waiter in set)
            waiter.Complete(reason);
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
                {
                    shard.Channels.Remove(channel);
                    Interest?.Release(channel);
                }
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

/// <summary>One held poll's wake-up: completes with the publication that woke it, with <see cref="Reread"/>, or with null on timeout, abort or shutdown.</summary>
public sealed class PollWaiter : IDisposable
{
    /// <summary>Woken without a publication to answer with (the channel was reset): read the log again.</summary>
    internal static readonly object Reread = new();

    private readonly PollWaiters _owner;
    private readonly TaskCompletionSource<object?> _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    internal PollWaiter(PollWaiters owner, IReadOnlyList<string> channels)
    {
        _owner = owner;
        Channels = channels;
    }

    public IReadOnlyList<string> Channels { get; }

    /// <summary>Completes when the node follows every channel of the poll; read the log only after it.</summary>
    public Task Following { get; internal set; } = Task.CompletedTask;

    /// <summary>Waits until a publication on one of the channels, or <paramref name="expiry"/> is cancelled.</summary>
    /// <returns>The <see cref="Publication"/> that woke the poll, <see cref="Reread"/>, or null on expiry.</returns>
    public async Task<object?> WaitAsync(CancellationToken expiry)
    {
        _owner.AddWaiting(1);
        try
        {
            using (expiry.UnsafeRegister(static state => ((PollWaiter)state!).Complete(null), this))
                return await _signal.Task.ConfigureAwait(false);
        }
        finally
        {
            _owner.AddWaiting(-1);
        }
    }

    /// <summary>Completes the wait (first call wins).</summary>
    public void Complete(object? reason) => _signal.TrySetResult(reason);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _signal.TrySetResult(null);
        _owner.Unregister(this);
    }
}
