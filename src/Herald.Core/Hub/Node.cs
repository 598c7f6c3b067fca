using System.Numerics;
using System.Threading.Channels;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Hub;

/// <summary>
/// This process's end of the engine: broker → per-channel sequencer → <see cref="ChannelHub"/>
/// (sessions) and <see cref="PollWaiters"/> (held long polls). Local and remote publications take
/// the same path; the log never calls the hub.
/// </summary>
/// <remarks>
/// <para>
/// <b>Interest.</b> The hub and the held polls report a channel's first and last local reader
/// (<see cref="IChannelInterest"/>). On the first, the node subscribes the broker and <em>then</em>
/// reads the channel's top: whatever is committed after that read arrives through the broker, so
/// following the channel from that top is gapless. After the last, it stays subscribed for
/// <see cref="NodeOptions.SubscriptionLinger"/>, so poll cycles and reconnect storms do not churn.
/// </para>
/// <para>
/// <b>Sequencer.</b> Every publication of a channel is delivered once and in offset order: a
/// duplicate (offset ≤ last delivered) is dropped, a jump is repaired by reading the missing range
/// from the log first, and an epoch change becomes an explicit reset for every local reader.
/// Brokers that can lose messages get their idle channels' tops re-checked every
/// <see cref="NodeOptions.TopCheckInterval"/>, and all of them after a reconnect.
/// </para>
/// <para>
/// <b>Dispatch.</b> Sequencing and fan-out run on per-shard dispatcher loops, never on the
/// broker's or the log's thread: a 15,000-subscriber fan-out does not delay the next group commit.
/// A channel always maps to one shard, which keeps its order.
/// </para>
/// </remarks>
public sealed partial class Node : IBrokerHandler, IChannelInterest, IAsyncDisposable
{
    private readonly IChannelLog _log;
    private readonly IBroker _broker;
    private readonly ChannelHub _hub;
    private readonly PollWaiters _polls;
    private readonly NodeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Shard[] _shards;
    private readonly int _mask;
    private readonly ITimer _maintenance;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _leavingLock = new();
    private readonly Dictionary<string, Task> _leaving = new(StringComparer.Ordinal);
    private readonly NodeCounters _counters = new();
    private long _nextTopCheck;
    private int _maintaining;
    private int _disposed;

    public Node(IChannelLog log, IBroker broker, ChannelHub hub, PollWaiters polls, NodeOptions? options = null, TimeProvider? time = null, ILogger<Node>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(polls);
        _log = log;
        _broker = broker;
        _hub = hub;
        _polls = polls;
        _options = options ?? new NodeOptions();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;

        // ProcessorCount × 2 dispatchers: one hot channel keeps one busy, several spread over the cores.
        var count = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, Environment.ProcessorCount * 2));
        _shards = new Shard[count];
        for (var i = 0; i < count; i++)
            _shards[i] = new Shard(this);
        _mask = count - 1;

        hub.Interest = this;
        polls.Interest = this;
        broker.Start(this);

        // One timer for the node: lingering subscriptions and top checks, whatever the channel count.
        _nextTopCheck = _time.GetTimestamp() + Ticks(_options.TopCheckInterval);
        _maintenance = _time.CreateTimer(static node => ((Node)node!).Maintain(), this, MaintenancePeriod, MaintenancePeriod);
    }

    /// <summary>How often lingering subscriptions are dropped and top checks are due: the linger's resolution.</summary>
    internal static TimeSpan MaintenancePeriod { get; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The broker channel of commands to every node (<see cref="UserCommands"/>). <c>$</c> is outside
    /// the namespace alphabet: no client can subscribe, publish or signal to it.
    /// </summary>
    public const string ControlChannel = "$herald:control";

    /// <summary>Receives the events of <see cref="ControlChannel"/>, on the broker's thread: it must not block.</summary>
    public Action<ChannelEvent>? ControlHandler { get; set; }

    public ChannelHub Hub => _hub;

    public PollWaiters Polls => _polls;

    /// <summary>Summary subscriptions (sidebars): told of every publication delivered, after the hub and the polls.</summary>
    public SummaryHub? Summaries
    {
        get;
        set
        {
            field = value;
            if (value is not null)
                value.Interest = this;
        }
    }

    /// <summary>Channels this node follows (local interest, or lingering after it).</summary>
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

    /// <summary>Publications the broker handed to this node: on one node, every publication committed.</summary>
    public long PublicationCount => Interlocked.Read(ref _counters.Received);

    /// <summary>Broker messages dropped because the node had delivered that offset already.</summary>
    public long DuplicateCount => Interlocked.Read(ref _counters.Duplicates);

    /// <summary>Publications read back from the log to fill a gap the broker left.</summary>
    public long RepairedCount => Interlocked.Read(ref _counters.Repaired);

    /// <summary>Channels reset because their epoch changed (history lost) while local readers followed them.</summary>
    public long ResetCount => Interlocked.Read(ref _counters.Resets);

    /// <summary>True once the channel's subscription is confirmed and its top read (for tests and diagnostics).</summary>
    public bool IsFollowing(string channel)
    {
        var shard = ShardFor(channel);
        lock (shard.Lock)
            return shard.Channels.TryGetValue(channel, out var entry) && entry.Ready.IsCompletedSuccessfully;
    }

    void IBrokerHandler.OnPublication(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        Interlocked.Increment(ref _counters.Received);
        var shard = ShardFor(publication.Channel);
        ChannelEntry? entry;
        lock (shard.Lock)
            shard.Channels.TryGetValue(publication.Channel, out entry);

        // No local reader and none lingering: nothing to do on this node.
        if (entry is not null)
            shard.Post(new Work(WorkKind.Publication, entry, publication, default, null));
    }

    void IBrokerHandler.OnEvent(ChannelEvent channelEvent)
    {
        ArgumentNullException.ThrowIfNull(channelEvent);
        if (string.Equals(channelEvent.Channel, ControlChannel, StringComparison.Ordinal))
        {
            ControlHandler?.Invoke(channelEvent);
            return;
        }

        var shard = ShardFor(channelEvent.Channel);
        ChannelEntry? entry;
        lock (shard.Lock)
            shard.Channels.TryGetValue(channelEvent.Channel, out entry);
        if (entry is not null)
            shard.Post(new Work(WorkKind.Event, entry, null, default, channelEvent));
    }

    void IBrokerHandler.OnReconnected()
    {
        Log.BrokerReconnected(_logger, ChannelCount);
        _ = CheckTopsAsync(all: true);
    }

    Task IChannelInterest.Acquire(string channel)
    {
        var shard = ShardFor(channel);
        lock (shard.Lock)
        {
            if (shard.Channels.TryGetValue(channel, out var entry))
            {
                entry.References++;
                if (entry.Failed)
                    StartFollowing(entry);
                return entry.Ready;
            }

            entry = new ChannelEntry(channel, shard) { References = 1 };
            shard.Channels.Add(channel, entry);
            StartFollowing(entry);
            return entry.Ready;
        }
    }

    Task IChannelInterest.WhenReady(string channel)
    {
        var shard = ShardFor(channel);
        lock (shard.Lock)
            return shard.Channels.TryGetValue(channel, out var entry) ? entry.Ready : Task.CompletedTask;
    }

    void IChannelInterest.Release(string channel)
    {
        var shard = ShardFor(channel);
        lock (shard.Lock)
        {
            if (shard.Channels.TryGetValue(channel, out var entry) && --entry.References == 0)
                entry.IdleSince = _time.GetTimestamp();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _maintenance.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var shard in _shards)
            shard.Complete();
        foreach (var shard in _shards)
            await shard.Completion.ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Under the shard's lock: subscribe the broker, then read the top, off this thread.</summary>
    private void StartFollowing(ChannelEntry entry)
    {
        entry.Failed = false;
        Task? leaving;
        lock (_leavingLock)
            _leaving.TryGetValue(entry.Channel, out leaving);
        entry.Ready = Task.Run(() => FollowAsync(entry, leaving));
    }

    private async Task FollowAsync(ChannelEntry entry, Task? leaving)
    {
        try
        {
            // Bounded: a subscribe lost in a reconnect must fail (and be retried by the next reader),
            // not leave the channel's readers on this node waiting for good.
            using var timeout = FollowDeadline();
            var token = timeout.Token;
            try
            {
                // A lingering subscription being dropped must be gone before this one is made, or the
                // broker could apply the unsubscribe last.
                if (leaving is not null)
                    await leaving.WaitAsync(token).ConfigureAwait(false);
                await _broker.SubscribeAsync(entry.Channel, token).ConfigureAwait(false);
                var state = await _log.GetStateAsync(entry.Channel, token).ConfigureAwait(false);
                entry.Shard.Post(new Work(WorkKind.Initialized, entry, null, state, null));
            }
            catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                throw new EngineUnavailableException($"Following channel '{entry.Channel}' took longer than {_options.FollowTimeout.TotalSeconds:0.#} s (Herald:Node:FollowTimeout).", ex);
            }
        }
        catch (Exception ex)
        {
            lock (entry.Shard.Lock)
                entry.Failed = true;
            if (ex is not OperationCanceledException)
                Log.FollowFailed(_logger, entry.Channel, ex);
            throw;
        }
    }

    private void Maintain()
    {
        // A tick still running (a slow top check) skips the next instead of piling up.
        if (Interlocked.Exchange(ref _maintaining, 1) != 0)
            return;
        try
        {
            DropLingering();
            var now = _time.GetTimestamp();
            if (now >= _nextTopCheck)
            {
                _nextTopCheck = now + Ticks(_options.TopCheckInterval);
                _ = CheckTopsAsync(all: false);
            }
        }
#pragma warning disable CA1031 // The timer must keep running whatever one tick met.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.MaintenanceFailed(_logger, ex);
        }
        finally
        {
            Volatile.Write(ref _maintaining, 0);
        }
    }

    private void DropLingering()
    {
        var now = _time.GetTimestamp();
        var linger = Ticks(_options.SubscriptionLinger);
        foreach (var shard in _shards)
        {
            List<(string Channel, TaskCompletionSource Done)>? leaving = null;
            lock (shard.Lock)
            {
                foreach (var entry in shard.Channels.Values)
                {
                    if (entry.References == 0 && now - entry.IdleSince >= linger && entry.Ready.IsCompleted)
                        (leaving ??= []).Add((entry.Channel, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
                }

                if (leaving is null)
                    continue;

                // Registered before the lock is released: an Acquire that comes next waits for this
                // unsubscribe before it subscribes again, so the broker cannot apply them out of order.
                foreach (var (channel, done) in leaving)
                {
                    shard.Channels.Remove(channel, out var entry);
                    entry!.Removed = true;
                    lock (_leavingLock)
                        _leaving[channel] = done.Task;
                }
            }

            foreach (var (channel, done) in leaving)
                _ = UnsubscribeAsync(channel, done);
        }
    }

    private async Task UnsubscribeAsync(string channel, TaskCompletionSource done)
    {
        try
        {
            // Bounded as a follow is: a following subscribe of the channel waits for this one.
            using var timeout = FollowDeadline();
            await _broker.UnsubscribeAsync(channel, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // A failed unsubscribe only costs traffic for a channel nobody reads here.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.UnsubscribeFailed(_logger, channel, ex);
        }
        finally
        {
            lock (_leavingLock)
            {
                if (_leaving.TryGetValue(channel, out var current) && current == done.Task)
                    _leaving.Remove(channel);
            }

            done.TrySetResult();
        }
    }

    /// <summary>Cancelled after <see cref="NodeOptions.FollowTimeout"/> or when the node stops.</summary>
    private CancellationTokenSource FollowDeadline()
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.FollowTimeout);
        return deadline;
    }

    private Shard ShardFor(string channel) => _shards[StringComparer.Ordinal.GetHashCode(channel) & _mask];

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>One channel this node follows. Fields under "dispatcher" are touched only by its shard's loop; the others under the shard's lock.</summary>
    private sealed class ChannelEntry(string channel, Shard shard)
    {
        public string Channel { get; } = channel;

        public Shard Shard { get; } = shard;

        // Under the shard's lock.
        public int References;
        public long IdleSince;
        public bool Failed;
        public bool Removed;
        public Task Ready = Task.CompletedTask;

        // Dispatcher.
        public bool Initialized;
        public string Epoch = string.Empty;
        public long Last;
        public List<Publication>? Pending;
        public long LastActivity;
        public bool NeedsCheck;
    }

    /// <summary>Counted on every node, read by the stats; a cache line apart from the read-only fields.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 192)]
    private sealed class NodeCounters
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public long Received;

        [System.Runtime.InteropServices.FieldOffset(72)]
        public long Duplicates;

        [System.Runtime.InteropServices.FieldOffset(80)]
        public long Repaired;

        [System.Runtime.InteropServices.FieldOffset(88)]
        public long Resets;
    }
}

/// <summary>Told by the hub and the held polls when a channel gains its first or loses its last local reader.</summary>
public interface IChannelInterest
{
    /// <summary>A channel's first local reader came; completes when the channel is followed (broker subscribed, top read).</summary>
    Task Acquire(string channel);

    /// <summary>Completes when a channel already acquired is followed.</summary>
    Task WhenReady(string channel);

    /// <summary>A channel's last local reader left.</summary>
    void Release(string channel);
}
