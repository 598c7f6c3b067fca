using System.Collections.Concurrent;
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
/// timer per connection — and on shutdown every session is closed with
/// <see cref="DisconnectReason.Shutdown"/> so clients reconnect (elsewhere) and resume.
/// </summary>
internal sealed class ConnectionRegistry(IOptions<HeraldOptions> options, TimeProvider time) : BackgroundService
{
    private readonly ConcurrentDictionary<IConnection, byte> connections = new();

    public int Count => connections.Count;

    /// <summary>Open connections per transport.</summary>
    public Dictionary<string, int> CountByTransport()
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var connection in connections.Keys)
            counts[connection.Transport] = counts.GetValueOrDefault(connection.Transport) + 1;
        return counts;
    }

    public void Add(IConnection connection) => connections.TryAdd(connection, 0);

    public void Remove(IConnection connection) => connections.TryRemove(connection, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Transports.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var now = time.GetUtcNow();
                foreach (var connection in connections.Keys)
                    connection.OnHeartbeat(now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var closing = connections.Keys.Select(c => c.Session.CloseAsync(DisconnectReason.Shutdown)).ToArray();
        await Task.WhenAll(closing).WaitAsync(cancellationToken);
    }
}
