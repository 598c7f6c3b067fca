using System.Collections.Concurrent;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The broker of the Redis engine: one pub/sub channel per Herald channel, on the connection's one
/// subscription connection. The append script publishes each committed publication itself, so what
/// arrives is in commit order; each channel's messages are handed to the node from a queue of its
/// own (never on the connection's reader), which keeps their order without one channel waiting on
/// another.
/// </summary>
/// <remarks>
/// Pub/sub is at-most-once: a message published while the subscription connection is down is gone.
/// The client library resubscribes when it reconnects; the engine then calls
/// <see cref="IBrokerHandler.OnReconnected"/>, and the node reads every followed channel's top and
/// repairs what was missed from the streams.
/// </remarks>
public sealed class RedisBroker : IBroker
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _subscriptions = new(StringComparer.Ordinal);
    private IBrokerHandler? _handler;
    private Action<int, string, long>? _writeCounterSeen;
    private int _disposed;

    public RedisBroker(IConnectionMultiplexer redis, RedisEngineOptions options, ILogger<RedisBroker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _keys = new RedisKeys(options.Prefix, options.Partitions);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public bool MayLoseMessages => true;

    /// <summary>
    /// Told, for every publication received, its partition and that partition's era and write counter
    /// at its append: the log's watermark learns of other nodes' writes, so a Redis that went back
    /// in time is noticed by every node that saw the newer writes, not only by the one that made them.
    /// </summary>
    internal void OnWriteCounterSeen(Action<int, string, long> observer) => Volatile.Write(ref _writeCounterSeen, observer);

    /// <summary>Channels subscribed on Redis now.</summary>
    public int SubscriptionCount => _subscriptions.Count;

    public void Start(IBrokerHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
            throw new InvalidOperationException("The broker is already started.");
    }

    public async ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_subscriptions.ContainsKey(channel))
            return;

        var partition = _keys.PartitionOf(channel);
        ChannelMessageQueue queue;
        try
        {
            // Completes once Redis confirmed SUBSCRIBE: what is published after that reaches the queue.
            queue = await _redis.GetSubscriber().SubscribeAsync(_keys.PubSub(partition, channel)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }

        if (!_subscriptions.TryAdd(channel, queue))
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
            return;
        }

        queue.OnMessage(message => Receive(channel, partition, message));
    }

    public async ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (!_subscriptions.TryRemove(channel, out var queue))
            return;
        try
        {
            await queue.UnsubscribeAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            // The connection is gone, and with it the subscription.
        }
    }

    public async ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channelEvent);
        try
        {
            await _redis.GetSubscriber()
                .PublishAsync(_keys.PubSub(_keys.PartitionOf(channelEvent.Channel), channelEvent.Channel), RedisMessageCodec.EncodeEvent(channelEvent))
                .WaitAsync(cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }
    }

    /// <summary>Called by the engine once the connection is back (and a restart was checked for): the node re-reads its tops.</summary>
    internal void SignalReconnected() => Volatile.Read(ref _handler)?.OnReconnected();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Volatile.Write(ref _handler, null);
        foreach (var (_, queue) in _subscriptions)
        {
            try
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
            {
            }
        }

        _subscriptions.Clear();
    }

    private void Receive(string channel, int partition, ChannelMessage message)
    {
        if (Volatile.Read(ref _handler) is not { } handler)
            return;
        if (!RedisMessageCodec.TryDecode(channel, (byte[])message.Message!, out var decoded))
        {
            RedisLog.BadMessage(_logger, message.Channel.ToString());
            return;
        }

        if (decoded.Publication is { } publication)
        {
            Volatile.Read(ref _writeCounterSeen)?.Invoke(partition, decoded.Era, decoded.WriteCounter);
            handler.OnPublication(publication);
        }
        else if (decoded.Event is { } channelEvent)
            handler.OnEvent(channelEvent);
    }
}
