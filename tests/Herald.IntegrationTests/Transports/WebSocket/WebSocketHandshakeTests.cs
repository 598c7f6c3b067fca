using System.Net.Sockets;
using System.Text;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>
/// The upgrade is served below the HTTP layer when it is a connection's first request, and by the
/// HTTP endpoint otherwise; both must accept the same requests. Raw sockets, to control the bytes.
/// </summary>
public sealed class WebSocketHandshakeTests : IAsyncLifetime
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    // RFC 6455 §1.3's worked example: this key's accept value.
    private const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task An_upgrade_whose_head_arrives_in_pieces_is_accepted()
    {
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        var request = Upgrade("/v1/ws");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request[..7]));
        await Task.Delay(50);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request[7..30]));
        await Task.Delay(50);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request[30..]));

        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: " + Accept, head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upgrade_after_another_request_on_the_same_connection_is_accepted_by_the_HTTP_endpoint()
    {
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\n\r\n"));
        var health = await ReadUntilAsync(stream, "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", health, StringComparison.Ordinal);
        Assert.Contains("Transfer-Encoding: chunked", health, StringComparison.OrdinalIgnoreCase);
        await ReadUntilAsync(stream, "\r\n0\r\n\r\n");

        await stream.WriteAsync(Encoding.ASCII.GetBytes(Upgrade("/v1/ws")));
        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Contains(Accept, head, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Version: 8\r\n", "426")]
    [InlineData("Origin: http://evil.example\r\n", "403")]
    public async Task A_first_request_the_fast_path_refuses_gets_the_endpoints_answer(string extraHeader, string status)
    {
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        var request = Upgrade("/v1/ws").Replace("Sec-WebSocket-Version: 13\r\n", extraHeader.StartsWith("Sec-WebSocket-Version", StringComparison.Ordinal) ? extraHeader : "Sec-WebSocket-Version: 13\r\n" + extraHeader, StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var head = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 " + status, head, StringComparison.Ordinal);
    }

    private string Upgrade(string path) =>
        $"GET {path} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port).WaitAsync(HttpJson.Timeout);
        return client;
    }

    private static Task<string> ReadHeadAsync(NetworkStream stream) => ReadUntilAsync(stream, "\r\n\r\n");

    /// <summary>Reads byte by byte up to <paramref name="end"/>, so nothing after it is taken.</summary>
    private static async Task<string> ReadUntilAsync(NetworkStream stream, string end)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(one).AsTask().WaitAsync(HttpJson.Timeout);
            if (read == 0)
                break;
            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
