using System.Net;
using System.Net.Sockets;

namespace Herald.LoadGen;

/// <summary>
/// Opens client sockets, bound round-robin to the given loopback source addresses: one source
/// address has ~28,000 ephemeral ports (32768–60999), so more connections than that, or several
/// runs whose closed sockets linger in TIME_WAIT, need more than one.
/// </summary>
internal sealed class Connector(IReadOnlyList<IPAddress> sources)
{
    // IP_BIND_ADDRESS_NO_PORT (Linux): bind the address now, pick the port at connect time, so a
    // port is shared by connections to different destinations instead of reserved by bind().
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private int _next = -1;

    public static Connector Parse(string? list) =>
        new(string.IsNullOrWhiteSpace(list)
            ? []
            : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(IPAddress.Parse).ToArray());

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(context.DnsEndPoint, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    public async ValueTask<Socket> ConnectSocketAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var address = IPAddress.TryParse(endPoint.Host, out var parsed) ? parsed : IPAddress.Loopback;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (sources.Count > 0)
            {
                socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                var source = sources[(int)((uint)Interlocked.Increment(ref _next) % (uint)sources.Count)];
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A handler for many long-lived requests: no connection cap unless asked, no proxy, no cookies.</summary>
    public SocketsHttpHandler CreateHandler(int maxConnections = int.MaxValue) => new()
    {
        ConnectCallback = ConnectAsync,
        MaxConnectionsPerServer = maxConnections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    };
}
