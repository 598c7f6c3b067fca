using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Herald.Hub;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Transports;

/// <summary>Something that holds a connection open and must be told when to send a heartbeat.</summary>
internal interface IConnection
{
    /// <summary>Which transport: <c>ws</c>, <c>sse</c>, <c>stream</c>.</summary>
    string Transport { get; }

    Session Session { get; }

    /// <summary>Called from the one heartbeat timer: queue a heartbeat, or close a client that went silent. Must not block.</summary>
    void OnHeartbeat(DateTimeOffset now);
}

/// <summary>
/// Every open push connection of this node. One timer drives the heartbeats of all of them — no
/// timer per connection — and as soon as the host starts stopping every session is closed with
/// <see cref="DisconnectReason.Shutdown"/>, so clients hear "reconnect (elsewhere) and resume"
/// instead of having their responses cut when Kestrel's drain timeout runs out.
/// </summary>
internal sealed class ConnectionRegistry(IOptions<HeraldOptions> options, TimeProvider time) : BackgroundService, IHostedLifecycleService
{
    /// <summary>
    /// Heartbeats go out in this many slices, one slice per tick: 15,000 connections pinged in the
    /// same instant would each hold a send buffer at once, and the memory pool keeps that peak.
    /// </summary>
    internal const int Slices = 16;

    // The value is the connection's slice, assigned round-robin.
    private readonly ConcurrentDictionary<IConnection, int> connections = new();

    // Kept on add and remove, so a stats sample reads a few numbers instead of walking (and
    // locking) 15,000 connections.
    private readonly ConcurrentDictionary<string, StrongBox<int>> perTransport = new(StringComparer.Ordinal);
    private int nextSlice;

    public int Count => connections.Count;

    /// <summary>The open connections (a live view: connections come and go while it is walked).</summary>
    public IEnumerable<IConnection> Connections => connections.Keys;

    /// <summary>Open connections of one transport (<c>ws</c>, <c>sse</c>, <c>stream</c>).</summary>
    public int CountOf(string transport) => perTransport.TryGetValue(transport, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Open connections per transport.</summary>
    public Dictionary<string, int> CountByTransport() =>
        perTransport.ToDictionary(p => p.Key, p => Volatile.Read(ref p.Value.Value), StringComparer.Ordinal);

    private volatile bool stopping;

    public void Add(IConnection connection)
    {
        if (connections.TryAdd(connection, (int)((uint)Interlocked.Increment(ref nextSlice) % Slices)))
            Interlocked.Increment(ref CounterOf(connection.Transport).Value);

        // A connection that arrived while the others were being closed is closed too.
        if (stopping)
            _ = connection.Session.CloseAsync(DisconnectReason.Shutdown);
    }

    public void Remove(IConnection connection)
    {
        if (connections.TryRemove(connection, out _))
            Interlocked.Decrement(ref CounterOf(connection.Transport).Value);
    }

    private StrongBox<int> CounterOf(string transport) => perTransport.GetOrAdd(transport, static _ => new StrongBox<int>());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each connection still hears one heartbeat per interval, its slice's turn.
        using var timer = new PeriodicTimer(options.Value.Transports.HeartbeatInterval / Slices, time);
        var slice = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = time.GetUtcNow();
                foreach (var (connection, connectionSlice) in connections)
                {
                    if (connectionSlice == slice)
                        connection.OnHeartbeat(now);
                }

                slice = (slice + 1) % Slices;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Runs before any hosted service stops — before Kestrel waits for open requests to finish —
    /// so the push connections end themselves and Kestrel's drain completes at once.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        var closing = connections.Keys.Select(c => c.Session.CloseAsync(DisconnectReason.Shutdown)).ToArray();
        await Task.WhenAll(closing).WaitAsync(cancellationToken);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
