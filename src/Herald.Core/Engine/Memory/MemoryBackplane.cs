using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Herald.Engine.Memory;

/// <summary>
/// Several nodes in one process, connected the way a Redis engine connects processes: one shared
/// log (its offsets are the order every node sees) whose committed publications travel to each
/// node's broker through a queue of its own, as over a network — and can be told to drop,
/// duplicate or reorder them, so that tests can show the nodes' sequencers repair all of it.
/// </summary>
/// <remarks>For tests and experiments: nothing survives the process.</remarks>
public sealed class MemoryBackplane : IPublicationSink, IAsyncDisposable
{
    private readonly ConcurrentDictionary<BackplaneBroker, byte> _brokers = new();
    private readonly Lock _randomLock = new();
    private readonly Random _random;
    private long _dropped;
    private long _duplicated;
    private long _reordered;

    /// <param name="seed">Seeds the fault decisions, so a failing run can be replayed.</param>
    /// <param name="time">The shared log's clock.</param>
    public MemoryBackplane(int seed = 1, TimeProvider? time = null)
    {
        _random = new Random(seed);
        Log = new MemoryChannelLog(this, time);

        // Its diffs go out through a broker of its own, so every node's broker hears them (and may
        // be told to lose them, like any message: the nodes then re-read the missing diffs).
        Presence = new Presence.MemoryPresenceStore(CreateBroker(), time);
    }

    /// <summary>The log every node shares.</summary>
    public MemoryChannelLog Log { get; }

    /// <summary>The presence every node shares.</summary>
    public Presence.IPresenceStore Presence { get; }

    /// <summary>The read state every node over this backplane shares.</summary>
    public Reading.IReadStateStore ReadState { get; } = new Reading.MemoryReadStateStore();

    /// <summary>Chance (0–1) that a message to one node is lost.</summary>
    public double DropRate { get; set; }

    /// <summary>Chance (0–1) that a message to one node arrives twice.</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Chance (0–1) that a message to one node is held back and arrives after the next one.</summary>
    public double ReorderRate { get; set; }

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Duplicated => Interlocked.Read(ref _duplicated);

    public long Reordered => Interlocked.Read(ref _reordered);

    /// <summary>A broker for one more node.</summary>
    public IBroker CreateBroker()
    {
        var broker = new BackplaneBroker(this);
        _brokers.TryAdd(broker, 0);
        return broker;
    }

    /// <summary>Called by the shared log on its commit path: queues the publication to every node that subscribed its channel.</summary>
    public void OnPublished(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        foreach (var broker in _brokers.Keys)
        {
            if (broker.IsSubscribed(publication.Channel))
                Send(broker, publication);
        }
    }

    /// <summary>
    /// Cuts one node's connection: everything sent to it meanwhile is lost, as when a Redis
    /// subscription connection drops. <see cref="Reconnect"/> restores it and tells the node.
    /// </summary>
    public static void Disconnect(IBroker broker) => ((BackplaneBroker)broker).Connected = false;

    public static void Reconnect(IBroker broker)
    {
        var node = (BackplaneBroker)broker;
        node.Connected = true;
        node.Enqueue(BackplaneBroker.ReconnectedSignal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var broker in _brokers.Keys)
            await broker.DisposeAsync().ConfigureAwait(false);
        await Log.DisposeAsync().ConfigureAwait(false);
    }

    private void SendEvent(ChannelEvent channelEvent)
    {
        foreach (var broker in _brokers.Keys)
        {
            if (broker.IsSubscribed(channelEvent.Channel))
                Send(broker, channelEvent);
        }
    }

    private void Send(BackplaneBroker broker, object message)
    {
        if (!broker.Connected)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        double drop, duplicate, reorder;
        lock (_randomLock)
        {
            drop = _random.NextDouble();
            duplicate = _random.NextDouble();
            reorder = _random.NextDouble();
        }

        if (drop < DropRate)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (reorder < ReorderRate && broker.TryHoldBack(message))
        {
            Interlocked.Increment(ref _reordered);
            return;
        }

        broker.Enqueue(message);
        if (duplicate < DuplicateRate)
        {
            Interlocked.Increment(ref _duplicated);
            broker.Enqueue(message);
        }
    }

    private void Remove(BackplaneBroker broker) => _brokers.TryRemove(broker, out _);

    /// <summary>One node's end: its subscriptions and the queue its messages travel through.</summary>
    private sealed class BackplaneBroker(MemoryBackplane backplane) : IBroker
    {
        public static readonly object ReconnectedSignal = new();

        private readonly ConcurrentDictionary<string, byte> _channels = new(StringComparer.Ordinal);
        private readonly Channel<object> _queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Lock _heldLock = new();
        private object? _held;
        private IBrokerHandler? _handler;
        private Task _delivery = Task.CompletedTask;

        public bool MayLoseMessages => true;

        public volatile bool Connected = true;

        public bool IsSubscribed(string channel) => _channels.ContainsKey(channel);

        public void Start(IBrokerHandler handler)
        {
            ArgumentNullException.ThrowIfNull(handler);
            if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
                throw new InvalidOperationException("The broker is already started.");
            _delivery = Task.Run(DeliverAsync);
        }

        public ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            _channels.TryAdd(channel, 0);
            return ValueTask.CompletedTask;
        }

        public ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            _channels.TryRemove(channel, out _);
            return ValueTask.CompletedTask;
        }

        public ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(channelEvent);
            backplane.SendEvent(channelEvent);
            return ValueTask.CompletedTask;
        }

        public void Enqueue(object message)
        {
            _queue.Writer.TryWrite(message);
            // A message held back goes out right after the one that overtook it.
            object? held;
            lock (_heldLock)
            {
                held = _held;
                _held = null;
            }

            if (held is not null)
                _queue.Writer.TryWrite(held);
        }

        public bool TryHoldBack(object message)
        {
            lock (_heldLock)
            {
                if (_held is not null)
                    return false;
                _held = message;
                return true;
            }
        }

        public async ValueTask DisposeAsync()
        {
            backplane.Remove(this);
            _queue.Writer.TryComplete();
            await _delivery.ConfigureAwait(false);
        }

        private async Task DeliverAsync()
        {
            var handler = _handler!;
            await foreach (var message in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                switch (message)
                {
                    case Publication publication:
                        handler.OnPublication(publication);
                        break;
                    case ChannelEvent channelEvent:
                        handler.OnEvent(channelEvent);
                        break;
                    default:
                        handler.OnReconnected();
                        break;
                }
            }
        }
    }
}
