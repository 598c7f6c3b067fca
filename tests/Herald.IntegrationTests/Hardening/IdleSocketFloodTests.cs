using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// The attack of issue 11: thousands of idle sockets from one address. The real <c>herald</c> runs
/// with an open-file limit of 2,048 (prlimit), so 2,000 sockets held for free would exhaust it. The
/// node is a scale model of a production one (nofile 1,048,576, 2,500 per address): its per-address
/// limit is scaled down with it to 1,000, under the node's own cap (nofile − 1,024 = 1,024), so the
/// node refuses the excess, keeps serving another client (127.0.0.2) and does not abort.
/// </summary>
public sealed class IdleSocketFloodTests
{
    private const int Sockets = 2_000;
    private const string ApiKey = "flood-test-api-key-0123456789";
    private static readonly IPAddress s_other = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task A_node_under_2000_idle_sockets_from_one_address_keeps_serving_others_and_does_not_abort()
    {
        var data = TempDirectory.Create();
        await using var herald = await HeraldProcess.StartWithOpenFileLimitAsync(data, 2048, "--store", "memory", "--Herald:ApiKeys:0=" + ApiKey, "--Herald:Connections:MaxConnectionsPerIp=1000");
        Assert.Contains("open-file limit (nofile) 2048 soft", herald.Output, StringComparison.Ordinal);

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var sockets = new List<Socket>(Sockets);
        try
        {
            for (var i = 0; i < Sockets; i++)
                sockets.Add(await RawHttp.ConnectAsync(herald.BaseAddress, cancellationToken: timeout.Token));

            // The node answers what it refuses by closing it (these send nothing): wait until the
            // excess over the per-address limit has been closed, so every socket was accepted.
            var closed = sockets.Select(s => RawHttp.ReadUntilClosedAsync(s, TimeSpan.FromSeconds(90))).ToList();
            var refused = 0;
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while ((refused = closed.Count(t => t.IsCompleted && t.Result is not null)) < Sockets - 1_000 && DateTime.UtcNow < deadline)
                await Task.Delay(200, timeout.Token);
            Assert.True(refused >= Sockets - 1_000, $"only {refused} of {Sockets} sockets were refused");

            // Another client is served, on every path that matters: publish, read, WebSocket.
            using var http = new HttpClient(RawHttp.HandlerFrom(s_other)) { BaseAddress = herald.BaseAddress, Timeout = RawHttp.Timeout };
            http.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
            using (var health = await http.GetAsync(new Uri("healthz", UriKind.Relative), timeout.Token))
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            using var ws = new ClientWebSocket();
            using var invoker = new HttpMessageInvoker(RawHttp.HandlerFrom(s_other));
            await ws.ConnectAsync(new Uri(herald.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws"), invoker, timeout.Token);
            await ws.SendAsync("""{"id":1,"op":"subscribe","channel":"news:flood"}"""u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
            Assert.Contains("subscribed", await ReceiveAsync(ws, timeout.Token), StringComparison.Ordinal);

            using (var published = await http.PublishAsync("news:flood", """{"data":"still here"}"""))
                Assert.Equal(HttpStatusCode.Created, published.StatusCode);
            Assert.Contains("still here", await ReceiveAsync(ws, timeout.Token), StringComparison.Ordinal);

            Assert.False(herald.HasExited, herald.Output);
            Assert.Contains("was refused: the ip limit of 1000 connections", herald.Output, StringComparison.Ordinal);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
            TempDirectory.Delete(data);
        }
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket ws, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var result = await ws.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
}
