using System.Runtime.InteropServices;
using Herald.Diagnostics;

namespace Herald.Hub;

/// <summary>One channel and its number of local subscribers.</summary>
public readonly record struct ChannelSubscribers(string Channel, int Subscribers);

/// <remarks>
/// The hub's own running totals, for the stats endpoint. They are per hub (so per node and per
/// test server), unlike the process-wide <see cref="HeraldMetrics"/> instruments, which a
/// <c>Counter&lt;T&gt;</c> cannot be read back from. Two interlocked adds per publication: no
/// allocation, no lock.
/// </remarks>
public sealed partial class ChannelHub
{
    private readonly Totals _totals = new();

    /// <summary>Publications handed to this hub since it started: every publication committed on this node.</summary>
    public long PublicationCount => Interlocked.Read(ref _totals.Publications);

    /// <summary>Publications queued to local sessions since the hub started, one per recipient.</summary>
    public long DeliveryCount => Interlocked.Read(ref _totals.Deliveries);

    /// <summary>Sessions of this hub closed as slow consumers since it started.</summary>
    public long SlowConsumerDisconnectCount => Interlocked.Read(ref _totals.SlowConsumerDisconnects);

    internal void CountSlowConsumerDisconnect() => Interlocked.Increment(ref _totals.SlowConsumerDisconnects);

    /// <summary>
    /// The <paramref name="count"/> channels with the most local subscribers, most first, ties in
    /// name order. Each shard's lock is held only while its channels are read, so a publish waits
    /// at most for one shard's scan; meant for a stats sample, not for a hot path.
    /// </summary>
    public IReadOnlyList<ChannelSubscribers> TopChannels(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);

        // A min-heap of the best so far: the root is the first to give way to a bigger channel.
        var best = new PriorityQueue<ChannelSubscribers, ChannelSubscribers>(count + 1, RankComparer.Instance);
        foreach (var shard in _shards)
        {
            lock (shard.Lock)
            {
                foreach (var (channel, list) in shard.Channels)
                {
                    var candidate = new ChannelSubscribers(channel, list.Live);
                    if (best.Count < count)
                        best.Enqueue(candidate, candidate);
                    else if (RankComparer.Instance.Compare(candidate, best.Peek()) > 0)
                        best.EnqueueDequeue(candidate, candidate);
                }
            }
        }

        var top = new ChannelSubscribers[best.Count];
        for (var i = top.Length - 1; i >= 0; i--)
            top[i] = best.Dequeue();
        return top;
    }

    /// <summary>
    /// The counters, on a cache line of their own: every publish on every core writes them, and
    /// must not evict the hub's read-only fields (<c>_shards</c>, <c>_mask</c>) that every publish reads.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private sealed class Totals
    {
        [FieldOffset(64)]
        public long Publications;

        [FieldOffset(72)]
        public long Deliveries;

        [FieldOffset(80)]
        public long SlowConsumerDisconnects;
    }

    /// <summary>More subscribers ranks higher; on a tie the name that sorts first ranks higher.</summary>
    private sealed class RankComparer : IComparer<ChannelSubscribers>
    {
        public static readonly RankComparer Instance = new();

        public int Compare(ChannelSubscribers x, ChannelSubscribers y)
        {
            var bySubscribers = x.Subscribers.CompareTo(y.Subscribers);
            return bySubscribers != 0 ? bySubscribers : string.CompareOrdinal(y.Channel, x.Channel);
        }
    }
}
