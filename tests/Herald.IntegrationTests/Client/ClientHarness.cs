using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Herald.Client;

namespace Herald.IntegrationTests.Client;

/// <summary>Clients with short delays, so tests that cut connections do not wait out production backoff.</summary>
internal static class Clients
{
    private static int counter;

    public static HeraldClient Create(Uri server, HeraldTransport[] transports, Action<HeraldClientOptions>? configure = null)
    {
        var options = new HeraldClientOptions
        {
            BaseAddress = server,
            Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(1) },
            Fallback = new FallbackOptions { StableAfter = TimeSpan.FromSeconds(2) },
            OpenTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(10),
            PollInterval = TimeSpan.FromMilliseconds(100),
            LongPollWait = TimeSpan.FromSeconds(10),
        };
        options.Transports.Clear();
        foreach (var transport in transports)
            options.Transports.Add(transport);
        configure?.Invoke(options);
        return new HeraldClient(options);
    }

    /// <summary>A channel no other test uses.</summary>
    public static string FreshChannel(string ns = "chat") => $"{ns}:t{Environment.ProcessId}-{Interlocked.Increment(ref counter)}-{Guid.NewGuid().ToString("N")[..6]}";

    public static async Task Until(Func<bool> condition, TimeSpan timeout, Func<string> message)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{message()} (after {timeout.TotalSeconds} s)");
            await Task.Delay(20);
        }
    }

    public static long[] Range(long from, long to) => [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i)];
}

/// <summary>Every client event as short strings: <c>connected:WebSocket</c>, <c>disconnected:Sse:…</c>.</summary>
internal sealed class ClientLog
{
    private readonly ConcurrentQueue<string> entries = new();

    public ClientLog(HeraldClient client)
    {
        client.Connecting += (_, e) => entries.Enqueue($"connecting:{e.Transport}");
        client.Connected += (_, e) => entries.Enqueue($"connected:{e.Transport}");
        client.Disconnected += (_, e) =>
        {
            entries.Enqueue($"disconnected:{e.Transport}:{e.Code}:{e.Reason}");
            Disconnects.Enqueue(e);
        };
    }

    public ConcurrentQueue<DisconnectedEvent> Disconnects { get; } = new();

    public string[] Entries => [.. entries];

    public override string ToString() => string.Join(" | ", entries);
}

/// <summary>Records what a subscription reports, for assertions.</summary>
internal sealed class Received<T>
{
    private readonly List<Publication<T>> publications = [];
    private readonly List<string> events = [];

    /// <summary>Records an existing subscription: its confirmations from now on, its publications from the first.</summary>
    public Received(Subscription<T> subscription)
    {
        Watch(subscription);
        Attach(subscription);
    }

    private Received()
    {
    }

    public Subscription<T> Subscription { get; private set; } = null!;

    /// <summary>
    /// Subscribes with <paramref name="subscribe"/>, the confirmation handlers attached through
    /// <see cref="SubscribeOptions.Configure"/>, so even a confirmation that arrives before Subscribe returns is recorded.
    /// </summary>
    public static Received<T> Subscribe(Func<SubscribeOptions, Subscription<T>> subscribe, SubscribeOptions? options = null)
    {
        var received = new Received<T>();
        options ??= new SubscribeOptions();
        options.Configure = received.Watch;
        received.Attach(subscribe(options));
        return received;
    }

    public Publication<T>[] Publications
    {
        get
        {
            lock (publications)
                return [.. publications];
        }
    }

    public long[] Offsets => [.. Publications.Select(p => p.Offset)];

    public string[] Events
    {
        get
        {
            lock (events)
                return [.. events];
        }
    }

    public Task Count(int n, int seconds = 30) => Clients.Until(
        () => Publications.Length >= n,
        TimeSpan.FromSeconds(seconds),
        () => $"expected {n} publications on {Subscription.Channel}, got [{string.Join(',', Offsets)}]; events {string.Join(' ', Events)}");

    public Task Event(string prefix, int seconds = 30) => Clients.Until(
        () => Events.Any(e => e.StartsWith(prefix, StringComparison.Ordinal)),
        TimeSpan.FromSeconds(seconds),
        () => $"no '{prefix}' event on {Subscription.Channel}; events {string.Join(' ', Events)}");

    private void Attach(Subscription<T> subscription)
    {
        Subscription = subscription;
        subscription.Received += (_, p) =>
        {
            lock (publications)
                publications.Add(p);
        };
    }

    private void Watch(SubscriptionBase subscription)
    {
        subscription.Subscribed += (_, e) => Add($"subscribed:{e.Transport}:{e.Recovered}");
        subscription.Recovered += (_, e) => Add($"recovered:{e.Transport}:{e.Position.Offset}");
        subscription.Reset += (_, e) => Add($"reset:{e.Transport}:{e.Previous?.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}->{e.Position.Offset}");
        subscription.Failed += (_, e) => Add($"error:{e.Code}");
    }

    private void Add(string entry)
    {
        lock (events)
            events.Add(entry);
    }
}

/// <summary>
/// A TCP proxy between a client and the server, so a test can cut every connection at once and refuse
/// new ones for a while (a network outage with the server still up), or act as a middlebox that lets
/// WebSockets open and kills them soon after.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly int target;
    private readonly ConcurrentDictionary<TcpClient, byte> sockets = new();
    private readonly CancellationTokenSource stop = new();
    private volatile bool refusing;

    private TcpProxy(int target)
    {
        this.target = target;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = AcceptAsync();
    }

    public Uri BaseAddress => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    /// <summary>Kills a connection this long after it asked for a WebSocket upgrade; null: never.</summary>
    public TimeSpan? KillWebSocketsAfter { get; set; }

    public int WebSocketsSeen;

    public static TcpProxy Start(Uri server) => new(server.Port);

    /// <summary>Cuts every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        refusing = true;
        foreach (var socket in sockets.Keys)
            Close(socket);
    }

    public void Restore() => refusing = false;

    public ValueTask DisposeAsync()
    {
        Cut();
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
        return default;
    }

    /// <summary>Resets the connection, once: a cut and the pump's own end may both get here, and a disposed TcpClient has no socket.</summary>
    private void Close(TcpClient socket)
    {
        if (!sockets.TryRemove(socket, out _))
            return;
        Reset(socket);
    }

    private static void Reset(TcpClient socket)
    {
        try
        {
            if (socket.Client is { } raw)
                raw.LingerState = new LingerOption(true, 0);
            socket.Dispose();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (refusing)
            {
                Reset(client);
                continue;
            }

            _ = PairAsync(client);
        }
    }

    private async Task PairAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        sockets[client] = 0;
        sockets[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, target, stop.Token);
            var up = PumpAsync(client, upstream, inspect: true);
            var down = PumpAsync(upstream, client, inspect: false);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            Close(client);
            Close(upstream);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool inspect)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var source = from.GetStream();
            var sink = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer, stop.Token);
                if (read == 0)
                    return;
                if (inspect && KillWebSocketsAfter is { } after && System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("Upgrade: websocket", StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref WebSocketsSeen);
                    _ = Task.Delay(after).ContinueWith(_ => { Close(from); Close(to); }, TaskScheduler.Default);
                }

                await sink.WriteAsync(buffer.AsMemory(0, read), stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
