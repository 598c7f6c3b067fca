using System.Text.Json;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>A third-party client, the npm <c>ws</c> package, speaks the protocol as documented.</summary>
public sealed class WebSocketNodeClientTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task The_ws_package_subscribes_receives_every_publication_and_gets_documented_errors()
    {
        const int Count = 50;
        var (exitCode, output, error) = await NodeScript.RunAsync(
            "ws-client.mjs",
            TimeSpan.FromSeconds(90),
            WsClient.WsUri(server).ToString(),
            server.BaseAddress.ToString(),
            TestServer.ApiKey,
            "news:node",
            Count.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(exitCode == 0, $"node exited {exitCode}: {output} {error}");
        var summary = JsonDocument.Parse(output).RootElement;
        Assert.True(summary.GetProperty("subscribed").GetProperty("recovered").GetBoolean());
        Assert.Equal(Enumerable.Range(1, Count), summary.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt32()));
        Assert.Equal("bad_request", summary.GetProperty("badJson").GetString());
        Assert.Equal("unknown_op", summary.GetProperty("unknownOp").GetString());
        Assert.Equal(4, summary.GetProperty("pong").GetInt32());
        Assert.Equal(3000, summary.GetProperty("close").GetProperty("code").GetInt32());
    }
}
