using Herald.Client.Transports;

namespace Herald.Client.Internal;

/// <summary>What the connector needs from the client: its channels, where reports go, and its events.</summary>
internal interface IConnectorHooks
{
    IReadOnlyList<string> Channels { get; }

    /// <summary>True while something asks for a connection: a subscription, or an explicit connect.</summary>
    bool WantsConnection { get; }

    ITransportSink SinkFor(HeraldTransport transport, Action opened);

    /// <summary>Checks each channel on its own after a refused connection; fails the refused ones, returns how many.</summary>
    Task<int> RemoveRefusedAsync(IReadOnlyList<string> channels, CancellationToken cancellationToken);

    void OnState(ConnectionState state);

    void OnConnecting(ConnectingEvent e);

    void OnConnected(ConnectedEvent e);

    void OnDisconnected(DisconnectedEvent e);

    void OnError(HeraldException e);
}

/// <summary>
/// Keeps one connection open for the client's channels (the TypeScript SDK's connector.ts): opens the
/// transport the planner names, and when it ends reconnects — same transport or the next, now or after
/// a backoff delay, as the planner decides. One loop, one session at a time, so a late report of a
/// closed connection can never move a position.
/// </summary>
internal sealed partial class Connector(HeraldClientOptions options, HttpApi http, Planner planner, IConnectorHooks hooks) : IAsyncDisposable
{
    /// <summary>Codes of a refused push or poll request that may come from one channel among several.</summary>
    private static readonly HashSet<string> ChannelRefusals = ["unauthorized", "forbidden", "invalid_channel"];

    private readonly object gate = new();
    private readonly CancellationTokenSource lifetime = new();
    private TaskCompletionSource<bool> wake = NewSignal();
    private TaskCompletionSource<bool> connected = NewSignal();
    private TransportSession? session;
    private Task? loop;
    private ConnectionState state = ConnectionState.Disconnected;
    private HeraldTransport? current;
    private bool reconnectRequested;

    /// <summary>Cancels the open session's run: <see cref="Reconnect"/> drops the connection, not only a backoff wait.</summary>
    private CancellationTokenSource? dropSession;
    private int attempts;
    private bool authRetried;

    public ConnectionState State
    {
        get
        {
            lock (gate)
                return state;
        }
    }

    public HeraldTransport? Transport
    {
        get
        {
            lock (gate)
                return current;
        }
    }

    public IReadOnlyList<HeraldTransport> Transports
    {
        get
        {
            lock (gate)
                return planner.Transports;
        }
    }

    /// <summary>The open WebSocket session, if any (publish and history use it).</summary>
    public WebSocketSession? WebSocket
    {
        get
        {
            lock (gate)
                return state == ConnectionState.Connected && session is WebSocketSession { CanSend: true } socket ? socket : null;
        }
    }

    /// <summary>The channel set changed, or a connection is wanted: carried on the open connection, or a connection is started.</summary>
    public void ChannelsChanged()
    {
        TransportSession? open;
        lock (gate)
        {
            if (lifetime.IsCancellationRequested)
                return;
            loop ??= Task.Run(RunAsync);
            open = session;
            Signal(ref wake);
        }

        open?.ChannelsChanged();
    }

    /// <summary>Completes once a transport is open.</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (state == ConnectionState.Closed)
                throw new HeraldException("closed", "The client is disposed.");
            return state == ConnectionState.Connected ? Task.CompletedTask : connected.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Drops the connection (or the wait before the next attempt) and connects again at once.</summary>
    public void Reconnect(IEnumerable<HeraldTransport>? order = null)
    {
        CancellationTokenSource? drop;
        lock (gate)
        {
            if (lifetime.IsCancellationRequested)
                return;
            if (order is not null)
                planner.Reorder(order);
            reconnectRequested = true;
            loop ??= Task.Run(RunAsync);
            Signal(ref wake);
            drop = dropSession;
        }

        // Outside the lock: cancelling runs the session's callbacks, which may take it.
        try
        {
            drop?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? running;
        HeraldTransport? transport;
        bool wasConnected;
        lock (gate)
        {
            if (lifetime.IsCancellationRequested)
                return;
            lifetime.Cancel();
            running = loop;
            transport = current;
            wasConnected = state != ConnectionState.Disconnected;
            Signal(ref wake);
        }

        if (running is not null)
        {
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Closing.
            }
        }

        lock (gate)
        {
            current = null;
            connected.TrySetException(new HeraldException("closed", "The client is disposed."));
            _ = connected.Task.Exception;
        }

        if (wasConnected)
            hooks.OnDisconnected(new DisconnectedEvent(transport, "closed by the client", null, null));
        SetState(ConnectionState.Closed);
        lifetime.Dispose();
    }

    private static TaskCompletionSource<bool> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Signal(ref TaskCompletionSource<bool> signal)
    {
        var fired = signal;
        signal = NewSignal();
        fired.TrySetResult(true);
    }

    private Task<bool> NextWake()
    {
        lock (gate)
            return wake.Task;
    }

    private void SetState(ConnectionState next)
    {
        lock (gate)
        {
            if (state == next || state == ConnectionState.Closed)
                return;
            state = next;
            if (next == ConnectionState.Connected)
                connected.TrySetResult(true);
            else if (connected.Task.IsCompleted)
                connected = NewSignal();
        }

        hooks.OnState(next);
    }

    private void OnOpened(HeraldTransport transport)
    {
        lock (gate)
        {
            planner.Opened(Polyfills.NowMs());
            attempts = 0;
            authRetried = false;
        }

        if (State != ConnectionState.Connected)
        {
            SetState(ConnectionState.Connected);
            hooks.OnConnected(new ConnectedEvent(transport));
        }
    }

    private TransportSession Create(HeraldTransport transport, string? token)
    {
        var context = new SessionContext(options, http, hooks.SinkFor(transport, () => OnOpened(transport)), token);
        return transport switch
        {
            HeraldTransport.WebSocket => new WebSocketSession(context),
            HeraldTransport.Sse => new SseSession(context),
            HeraldTransport.Stream => new StreamSession(context),
            HeraldTransport.LongPoll => new PollSession(context, longPoll: true),
            _ => new PollSession(context, longPoll: false),
        };
    }
}
