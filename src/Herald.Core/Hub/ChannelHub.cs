using System.Numerics;
using Herald.Diagnostics;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Hub;

/// <summary>
/// This node's channel → subscribers registry and fan-out. The node's sequencer calls
/// <see cref="OnPublished"/> once per publication, in offset order per channel; the hub tells the
/// node (<see cref="Interest"/>) when a channel gains its first or loses its last subscriber.
/// </summary>
/// <remarks>
/// Sharded by channel so subscribes on different channels rarely contend. Each channel's
/// subscribers are a <see cref="SubscriberList"/>: read without a lock or a copy on publish (hot),
/// changed in O(1) on subscribe/unsubscribe. A publication is wrapped once in an <see cref="EncodedPublication"/>
/// and the same bytes are queued to every subscriber: fan-out allocates O(1) in the number of
/// recipients.
/// </remarks>
public sealed partial class ChannelHub : IPublicationSink
{
    private readonly Shard[] _shards;
    private readonly int _mask;
    private readonly ILogger _logger;

    public ChannelHub(ILogger<ChannelHub>? logger = null)
        : this(DefaultShardCount(), logger)
    {
    }

    /// <param name="shardCount">Rounded up to a power of two.</param>
    /// <param name="logger">Optional logger.</param>
    public ChannelHub(int shardCount, ILogger<ChannelHub>? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        var count = (int)BitOperations.RoundUpToPowerOf2((uint)shardCount);
        _shards = new Shard[count];
        for (var i = 0; i < count; i++)
            _shards[i] = new Shard();
        _mask = count - 1;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Channels with at least one local subscriber.</summary>
    public int ChannelCount
    {
        get
        {
            var total = 0;
            foreach (var shard in _shards)
            {
                lock (shard.Lock)
                    total += shard.Channels.Count;
            }

            return total;
        }
    }

    public int GetSubscriberCount(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var shard = ShardFor(channel);
        lock (shard.Lock)
            return shard.Channels.TryGetValue(channel, out var list) ? list.Live : 0;
    }

    /// <summary>Queues <paramref name="publication"/> to every local subscriber of its channel. Never blocks on a session.</summary>
    public void OnPublished(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        Interlocked.Increment(ref _totals.Publications);
        var (subscribers, count) = GetSubscribers(publication.Channel);
        if (count == 0)
            return;

        var encoded = new EncodedPublication(publication);
        var delivered = 0;
        for (var i = 0; i < count; i++)
        {
            if (subscribers[i] is not { } subscriber)
                continue;
            delivered++;
            try
            {
                subscriber.Deliver(encoded);
            }
#pragma warning disable CA1031 // One broken session must not stop the fan-out to the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.DeliveryFailed(_logger, publication.Channel, subscriber.Session.Id, ex);
            }
        }

        HeraldMetrics.PublicationsFannedOut.Add(1);
        HeraldMetrics.Deliveries.Add(delivered);
        Interlocked.Add(ref _totals.Deliveries, delivered);
    }

    /// <summary>Told of each channel's first and last subscriber: the node, which follows the channel meanwhile. Null in a hub used alone.</summary>
    public IChannelInterest? Interest { get; set; }

    /// <summary>
    /// The features that deliver their own events (presence and typing, which send each subscriber
    /// what its mode asks for).
    /// </summary>
    private Func<ChannelEvent, bool>[] _eventHandlers = [];

    /// <summary>Adds a feature's handler of its own events: true when the event was its, so it is not fanned out as it is.</summary>
    public void AddEventHandler(Func<ChannelEvent, bool> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_shards)
            _eventHandlers = [.. _eventHandlers, handler];
    }

    /// <summary>Told of every subscription leaving the hub (unsubscribe, session close, failed subscribe), after it left.</summary>
    internal Action<Subscription>? Removed { get; set; }

    /// <summary>
    /// Registers <paramref name="subscription"/> (buffering). Completes when the node follows the
    /// channel: from then on, every publication after the channel's current top reaches the hub.
    /// </summary>
    internal Task Add(Subscription subscription)
    {
        var shard = ShardFor(subscription.Channel);
        lock (shard.Lock)
        {
            if (!shard.Channels.TryGetValue(subscription.Channel, out var list))
                shard.Channels[subscription.Channel] = list = new SubscriberList();
            list.Add(subscription);

            // Under the shard's lock, so the node sees first and last of a channel in their order.
            if (Interest is not { } interest)
                return Task.CompletedTask;
            return list.Live == 1 ? interest.Acquire(subscription.Channel) : interest.WhenReady(subscription.Channel);
        }
    }

    /// <returns>True when this was the channel's last subscriber here.</returns>
    internal bool Remove(Subscription subscription)
    {
        var shard = ShardFor(subscription.Channel);
        bool removed, last;
        lock (shard.Lock)
        {
            removed = shard.Channels.TryGetValue(subscription.Channel, out var list) && list.Remove(subscription);
            last = removed && list!.Live == 0;
            if (last)
            {
                shard.Channels.Remove(subscription.Channel);
                Interest?.Release(subscription.Channel);
            }
        }

        if (removed)
            Removed?.Invoke(subscription);
        return last;
    }

    /// <summary>
    /// The channel's history is gone: every session subscribed to it is closed with
    /// <see cref="DisconnectReason.InsufficientState"/>, so it reconnects and is told
    /// <c>recovered: false</c> — on every transport, never a silent gap.
    /// </summary>
    public void Reset(string channel)
    {
        var (subscribers, count) = GetSubscribers(channel);
        for (var i = 0; i < count; i++)
        {
            if (subscribers[i] is { } subscriber)
                _ = subscriber.Session.CloseAsync(DisconnectReason.InsufficientState);
        }
    }

    /// <summary>
    /// An ephemeral event of a channel with local subscribers: offered to the handlers of <see cref="AddEventHandler"/>
    /// first; when no feature claims it (a signal), queued as it is to each subscriber (it is the
    /// message clients receive; never buffered, never numbered).
    /// </summary>
    public void OnEvent(ChannelEvent channelEvent)
    {
        ArgumentNullException.ThrowIfNull(channelEvent);
        foreach (var handler in Volatile.Read(ref _eventHandlers))
        {
            if (handler(channelEvent))
                return;
        }

        var (subscribers, count) = GetSubscribers(channelEvent.Channel);
        var encoded = count == 0 ? null : new EncodedEvent(channelEvent);
        for (var i = 0; i < count; i++)
        {
            if (subscribers[i] is not { } subscriber)
                continue;
            try
            {
                subscriber.DeliverEvent(encoded!);
            }
#pragma warning disable CA1031 // One broken session must not stop the fan-out to the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.DeliveryFailed(_logger, channelEvent.Channel, subscriber.Session.Id, ex);
            }
        }
    }

    private (Subscription?[] Items, int Count) GetSubscribers(string channel)
    {
        var shard = ShardFor(channel);
        lock (shard.Lock)
            return shard.Channels.TryGetValue(channel, out var list) ? list.Snapshot : ([], 0);
    }

    private Shard ShardFor(string channel) =>
        _shards[StringComparer.Ordinal.GetHashCode(channel) & _mask];

    // ProcessorCount × 4 shards: publishes on different channels from all cores rarely meet on
    // one lock; the lock is held only for a dictionary lookup or a list change.
    private static int DefaultShardCount() => Math.Max(16, Environment.ProcessorCount * 4);

    private sealed class Shard
    {
        public readonly Lock Lock = new();
        public readonly Dictionary<string, SubscriberList> Channels = new(StringComparer.Ordinal);
    }
}
