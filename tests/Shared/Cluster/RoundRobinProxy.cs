using System.Net;
using System.Net.Sockets;

namespace Herald.Testing.Cluster;

/// <summary>
/// A plain TCP load balancer with nothing sticky: every new connection goes to the next node that
/// accepts it, so a client that reconnects lands on another node — the setup Herald promises to
/// need nothing more than.
/// </summary>
public sealed class RoundRobinProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<IReadOnlyList<int>> _backends;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _next;

    public RoundRobinProxy(Func<IReadOnlyList<int>> backends)
    {
        _backends = backends;
        _listener.Start(1024);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var backends = _backends();
            TcpClient? upstream = null;
            for (var attempt = 0; attempt < backends.Count && upstream is null; attempt++)
            {
                var port = backends[(int)((uint)Interlocked.Increment(ref _next) % (uint)backends.Count)];
                var candidate = new TcpClient { NoDelay = true };
                try
                {
                    await candidate.ConnectAsync(IPAddress.Loopback, port, _stop.Token);
                    upstream = candidate;
                }
                catch (SocketException)
                {
                    candidate.Dispose();
                }
            }

            if (upstream is null)
                return;

            using (upstream)
            {
                client.NoDelay = true;
                var a = client.GetStream();
                var b = upstream.GetStream();
                var up = PumpAsync(a, b);
                var down = PumpAsync(b, a);
                await Task.WhenAny(up, down);
                client.Client.Close();
                upstream.Client.Close();
                await Task.WhenAll(up, down);
            }
        }
    }

    private static async Task PumpAsync(Stream from, Stream to)
    {
        try
        {
            await from.CopyToAsync(to, 16 * 1024);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }
}
