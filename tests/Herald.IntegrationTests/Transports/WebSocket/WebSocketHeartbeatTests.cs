using System.Net.WebSockets;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>The one heartbeat timer pings every connection; a client that answers nothing is closed with 3011.</summary>
public sealed class WebSocketHeartbeatTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Transports:HeartbeatInterval"] = "00:00:01",
        ["Herald:Transports:WebSocketIdleTimeout"] = "00:00:03",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_client_that_never_answers_is_closed_with_3011_while_one_that_answers_pong_stays_open()
    {
        await using var silent = await WsClient.ConnectAsync(server);
        await using var lively = await WsClient.ConnectAsync(server);

        using var stop = new CancellationTokenSource();
        var answeredPing = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pings = 0;
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var message = await lively.ReceiveAnyAsync();
                switch (message.GetProperty("type").GetString())
                {
                    case "ping":
                        pings++;
                        await lively.SendAsync("""{"op":"pong"}""");
                        break;
                    case "pong":
                        answeredPing.TrySetResult(message.GetProperty("id").GetInt32());
                        return;
                }
            }
        });

        // The silent client reads (it sees the pings) but never sends anything.
        Assert.Equal((WebSocketCloseStatus)3011, await silent.WaitForCloseAsync().WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("idle timeout", silent.CloseStatusDescription);

        // By now the lively client has been idle-checked too, and it is still served.
        Assert.Equal(WebSocketState.Open, lively.State);
        await lively.SendAsync("""{"id":99,"op":"ping"}""");
        Assert.Equal(99, await answeredPing.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        await answering.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(pings > 0);
    }
}
