using System.Net.Sockets;
using System.Text;

namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// The documented contract for a WebSocket client that stops reading: it is cut at the byte budget
/// (Herald:MaxQueuedBytesPerSession); its 3008 close frame cannot pass the full socket buffer, so
/// the client typically sees 1006 — and the server logs the close with transport and channel.
/// </summary>
public sealed class SlowWebSocketTests
{
    [Fact]
    public async Task A_WebSocket_client_that_stops_reading_is_cut_and_the_server_logs_why()
    {
        var logs = new CapturedLogs();
        await using var server = await TestServer.StartAsync(store: "memory", logs: logs, settings: new Dictionary<string, string?>
        {
            ["Herald:MaxQueuedBytesPerSession"] = "65536",
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, timeout.Token);
        Assert.Equal(101, await RawHttp.HandshakeAsync(socket, timeout.Token));
        await socket.SendAsync(RawHttp.Frame(0x1, """{"id":1,"op":"subscribe","channel":"news:firehose"}"""u8.ToArray()), timeout.Token);

        // The client reads nothing from here on; publish until the server gives up on it.
        using var http = server.CreateClient();
        var pad = new string('x', 30_000);
        for (var i = 0; i < 2_000 && !logs.Entries.Any(e => e.EventId == 1100); i++)
        {
            using var response = await http.PublishAsync("news:firehose", $$$"""{"data":{"n":{{{i}}},"pad":"{{{pad}}}"}}""");
            Assert.True(response.IsSuccessStatusCode);
        }

        var slow = Assert.Single(logs.Entries, e => e.EventId == 1100);
        Assert.Contains(slow.State, p => p.Key == "Transport" && (string?)p.Value == "ws");
        Assert.Contains(slow.State, p => p.Key == "Channel" && (string?)p.Value == "news:firehose");

        // The connection is closed: reading what is buffered ends (with 3008 if the close frame
        // squeezed in, without a close frame — 1006 to a browser — otherwise), never hangs.
        var rest = await RawHttp.ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(60));
        Assert.NotNull(rest);
        Assert.Contains("news:firehose", Encoding.UTF8.GetString(rest), StringComparison.Ordinal);
    }
}
