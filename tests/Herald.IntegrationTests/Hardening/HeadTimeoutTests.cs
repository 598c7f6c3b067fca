namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// /v1/ws is answered below Kestrel's HTTP layer, so its wait for the first request head must apply
/// Kestrel's own timeouts (Kestrel:Limits:KeepAliveTimeout, RequestHeadersTimeout): a connection
/// that sends nothing, or half a head, is not held for free. Here both are a few seconds; the
/// defaults are 130 s and 30 s, so a connection still open after 60 s proves no timeout applied.
/// </summary>
public sealed class HeadTimeoutTests : IAsyncLifetime
{
    private static readonly TimeSpan s_closedWithin = TimeSpan.FromSeconds(60);
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Kestrel:Limits:KeepAliveTimeout"] = "00:00:03",
        ["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:02",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_keep_alive_timeout()
    {
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress);
        var received = await RawHttp.ReadUntilClosedAsync(socket, s_closedWithin);
        Assert.NotNull(received);
        Assert.Empty(received);
    }

    [Theory]
    [InlineData("GET /v1/w")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")]
    public async Task Half_a_WebSocket_head_is_answered_408_within_the_request_headers_timeout(string half)
    {
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress);
        await RawHttp.SendAsync(socket, half);
        var received = await RawHttp.ReadUntilClosedAsync(socket, s_closedWithin);
        RawHttp.AssertProblem(received, 408, "request_timeout");
    }

    [Fact]
    public async Task Half_a_head_to_another_path_gets_Kestrels_408_under_the_same_setting()
    {
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress);
        await RawHttp.SendAsync(socket, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        var received = await RawHttp.ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(25));
        Assert.NotNull(received);
        Assert.Equal(408, RawHttp.Parse(received).Status);
    }

    [Fact]
    public async Task A_head_sent_slowly_but_within_the_timeout_is_upgraded()
    {
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
        var head = RawHttp.UpgradeHead();
        await RawHttp.SendAsync(socket, head[..20], timeout.Token);
        await Task.Delay(500, timeout.Token);
        await RawHttp.SendAsync(socket, head[20..], timeout.Token);
        var answer = new byte[12];
        await socket.ReceiveAsync(answer, timeout.Token);
        Assert.StartsWith("HTTP/1.1 101", System.Text.Encoding.ASCII.GetString(answer), StringComparison.Ordinal);
    }
}
