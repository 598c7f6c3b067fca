using Herald.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Hub;

/// <summary>
/// One client connection, whatever its transport: its subscriptions, its byte-bounded outbound
/// queue and the single writer loop that drains that queue into the transport.
/// </summary>
/// <remarks>
/// The writer waits for data, takes everything queued, hands it to
/// <see cref="ISessionTransport.WriteAsync"/> in one call (one flush) and repeats, so a burst of N
/// messages costs one write, not N. When a message would push the queue past
/// <see cref="HeraldOptions.MaxQueuedBytesPerSession"/> the session is closed with
/// <see cref="DisconnectReason.SlowConsumer"/>: the publisher is never slowed and the heap never
/// grows for a client that does not read. The client resumes from its cursor.
/// </remarks>
public sealed partial class Session : IAsyncDisposable
{
    // 5 s: a close handshake with a healthy client is one round trip; don't wait on a dead one.
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(5);
    private static readonly int s_defaultMaxQueuedBytes = new HeraldOptions().MaxQueuedBytesPerSession;

    private readonly ChannelHub _hub;
    private readonly ISessionTransport _transport;
    private readonly OutboundQueue _queue;
    private readonly ILogger _logger;
    // Guards the subscriptions and the close; the queue's own monitor, so a session has one lock.
    private readonly object _gate;

    // The session's subscriptions, guarded by _gate. A connection has a handful (at most
    // MaxChannelsPerConnection, 64): a small array scanned by name costs 24 + 8n bytes where a
    // dictionary costs ~180 for one entry, on every one of a node's idle connections.
    private Subscription[] _subscriptions = [];
    private int _subscriptionCount;

    // Never disposed: it has no timer, and in-flight subscribes may still link to its token.
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationToken _closingToken;
    private readonly TaskCompletionSource<DisconnectReason> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _writer;

    /// <param name="transport">Where the session's bytes go; its <see cref="ISessionTransport.Format"/> is fixed for the session.</param>
    /// <param name="hub">The node's hub.</param>
    /// <param name="options">Supplies <see cref="HeraldOptions.MaxQueuedBytesPerSession"/>; defaults when null.</param>
    /// <param name="logger">Optional logger.</param>
    public Session(ISessionTransport transport, ChannelHub hub, HeraldOptions? options = null, ILogger<Session>? logger = null)
        : this(transport, hub, options?.MaxQueuedBytesPerSession ?? s_defaultMaxQueuedBytes, logger, startWriter: true)
    {
    }

    internal Session(ISessionTransport transport, ChannelHub hub, int maxQueuedBytes, ILogger? logger, bool startWriter)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(hub);
        _transport = transport;
        _hub = hub;
        Format = transport.Format;
        _queue = new OutboundQueue(maxQueuedBytes);
        _gate = _queue.Gate;
        _logger = logger ?? NullLogger.Instance;
        _closingToken = _closing.Token;
        Id = Guid.CreateVersion7().ToString("N");
        _writer = startWriter ? RunWriterAsync() : Task.CompletedTask;
    }

    /// <summary>Unique id (UUIDv7, 32 hex digits), for logs and presence.</summary>
    public string Id { get; }

    public WireFormat Format { get; }

    /// <summary>The token's user (<c>sub</c>) who opened the session; null for anonymous sessions and server keys. Set by the transport.</summary>
    public string? User { get; init; }

    /// <summary>The user token's <c>info</c> claim (compact JSON; empty when none): what presence lists about the user.</summary>
    public ReadOnlyMemory<byte> UserInfo { get; init; }

    /// <summary>The transport's name (<c>ws</c>, <c>sse</c>, <c>stream</c>), for logs and presence.</summary>
    public string TransportName => _transport.Transport;

    /// <summary>Why the session closed; null while it is open.</summary>
    public DisconnectReason? CloseReason => _closed.Task.IsCompleted ? _closed.Task.Result : null;

    /// <summary>Completes when the writer loop has stopped and the transport was told to close.</summary>
    public Task Completion => _writer;

    /// <summary>Bytes waiting for the writer.</summary>
    public long QueuedBytes => _queue.QueuedBytes;

    internal int MaxQueuedBytes => _queue.MaxBytes;

    internal OutboundQueue Queue => _queue;

    /// <summary>
    /// Queues a control message (subscribe reply, pong, error…) already encoded in <see cref="Format"/>.
    /// The buffer must not change afterwards. Returns false when the session is closed or this
    /// message closed it as a slow consumer.
    /// </summary>
    public bool TrySend(ReadOnlyMemory<byte> message) => EnqueueLive(new OutboundMessage(message));

    /// <summary>Closes the session: removes its subscriptions, drops what is queued, stops the writer and closes the transport.</summary>
    /// <returns><see cref="Completion"/>.</returns>
    public Task CloseAsync(DisconnectReason reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        BeginClose(reason);
        return _writer;
    }

    public async ValueTask DisposeAsync()
    {
        BeginClose(DisconnectReason.Normal);
        await _writer;
    }

    internal bool EnqueueLive(OutboundMessage message, string? channel = null)
    {
        EnqueueResult result;
        bool wake;
        lock (_gate)
            result = _queue.EnqueueLocked(message, out wake);
        return Settle(result, wake, channel);
    }

    /// <summary>
    /// What follows <see cref="OutboundQueue.EnqueueLocked"/>, once the lock is released: wake the
    /// writer, or close the session as a slow consumer. True when the message was queued.
    /// </summary>
    /// <param name="result">What the enqueue did.</param>
    /// <param name="wake">Whether the writer must be woken.</param>
    /// <param name="channel">The channel whose publication was enqueued; null for a control message.</param>
    internal bool Settle(EnqueueResult result, bool wake, string? channel = null)
    {
        if (wake)
            _queue.Wake();
        else if (result == EnqueueResult.Overflow)
            OnOverflow(channel);
        return result == EnqueueResult.Accepted;
    }

    /// <summary>
    /// Called on the publishing thread, often inside a subscription's lock: the close itself (hub
    /// removal, cancelling the transport's write) runs on the thread pool so the fan-out goes on.
    /// </summary>
    /// <param name="channel">The channel whose publication did not fit, for the log; null for a control message.</param>
    internal void OnOverflow(string? channel)
    {
        _queue.Close();
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Session.CloseAsSlowConsumer(state.Channel), (Session: this, Channel: channel), preferLocal: false);
    }

    /// <summary>
    /// A subscription was handed a publication of another epoch than its own, not at the new
    /// epoch's first offset: closed as <see cref="DisconnectReason.InsufficientState"/> (on the
    /// thread pool, like <see cref="OnOverflow"/>: the caller holds the queue's lock), so the client
    /// resumes and is told it was reset.
    /// </summary>
    internal void OnEpochSkipped(string channel, string epoch, long offset, string nextEpoch, long nextOffset)
    {
        Log.EpochSkipped(_logger, Id, channel, epoch, offset, nextEpoch, nextOffset);
        ThreadPool.UnsafeQueueUserWorkItem(static session => session.BeginClose(DisconnectReason.InsufficientState), this, preferLocal: false);
    }

    /// <summary>
    /// Counts and logs the close with what an operator needs to tell why: the transport (the
    /// metric's tag) and the channel whose publication overflowed the queue. A WebSocket client that
    /// stopped reading cannot receive the 3008 close frame through its full socket buffer and sees
    /// 1006, so the server's side is where the reason is observable.
    /// </summary>
    private void CloseAsSlowConsumer(string? channel)
    {
        if (!BeginClose(DisconnectReason.SlowConsumer))
            return;
        var transport = _transport.Transport;
        HeraldMetrics.SlowConsumerDisconnects.Add(1, new KeyValuePair<string, object?>("transport", transport));
        _hub.CountSlowConsumerDisconnect();
        Log.SlowConsumer(_logger, Id, transport, channel ?? "(control message)", _queue.MaxBytes);
    }

    private bool BeginClose(DisconnectReason reason)
    {
        Subscription[] subscriptions;
        lock (_gate)
        {
            if (!_closed.TrySetResult(reason))
                return false;
            subscriptions = _subscriptions[.._subscriptionCount];
            _subscriptions = [];
            _subscriptionCount = 0;
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Stop();
            _hub.Remove(subscription);
        }

        _queue.Close();

        // Cancels a write that may never complete (the slow consumer's) and subscribes in flight.
        _closing.Cancel();
        return true;
    }

    private async Task RunWriterAsync()
    {
        List<OutboundMessage> batch = [];
        try
        {
            while (true)
            {
                var wait = _queue.WaitToReadAsync();
                if (!wait.IsCompleted)
                {
                    if (!await wait)
                        break;
                }
                else if (wait.Result)
                {
                    // More arrived while the last batch was written: a busy session. Let the
                    // writers queued behind it go first; what reaches it meanwhile leaves in the
                    // same write (coalescing). An idle session was woken through the pool already.
                    await Task.Yield();
                }
                else
                {
                    break;
                }

                _queue.TakeAll(ref batch);
                if (batch.Count == 0)
                    continue;

                await _transport.WriteAsync(batch, _closingToken);
                HeraldMetrics.BatchesWritten.Add(1);
                HeraldMetrics.MessagesWritten.Add(batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_closingToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Any transport failure ends this session only; it is logged and reported as WriteError.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.WriteFailed(_logger, Id, ex);
            BeginClose(DisconnectReason.WriteError);
        }

        // The queue closes only through BeginClose or an overflow, which schedules BeginClose.
        var reason = await _closed.Task;
        try
        {
            using var timeout = new CancellationTokenSource(s_closeTimeout);
            await _transport.CloseAsync(reason, timeout.Token);
        }
#pragma warning disable CA1031 // The connection is gone either way.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.TransportCloseFailed(_logger, Id, ex);
        }

        Log.Closed(_logger, Id, reason.Code, reason.Reason);
    }
}
