using System.Net;
using System.Net.Sockets;
using Herald.Settings;
using Herald.Transports.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.IntegrationTests.Hardening;

/// <summary>Herald:Connections: the per-address and per-node caps, at their boundary, and what a refused client sees.</summary>
public sealed class ConnectionLimitTests
{
    private static readonly IPAddress s_other = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task The_connection_past_the_per_address_limit_gets_429_and_another_address_is_served()
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Connections:MaxConnectionsPerIp"] = "5",
        });
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        var held = new List<Socket>();
        try
        {
            // Exactly the limit: five idle connections are all held.
            for (var i = 0; i < 5; i++)
                held.Add(await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token));
            var limiter = server.Services.GetRequiredService<ConnectionLimiter>();
            await WaitForAsync(() => limiter.OpenFrom(IPAddress.Loopback) == 5);

            // One more is answered with a problem document, then closed.
            using (var refused = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token))
            {
                await RawHttp.SendAsync(refused, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout.Token);
                var answer = await RawHttp.ReadUntilClosedAsync(refused, RawHttp.Timeout);
                RawHttp.AssertProblem(answer, 429, "too_many_connections");
                Assert.Equal("10", RawHttp.Parse(answer!).Headers["retry-after"]);
            }

            // A WebSocket client sees the same refusal as the handshake's answer.
            using (var ws = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token))
                Assert.Equal(429, await RawHttp.HandshakeAsync(ws, timeout.Token));

            // Another address is served meanwhile.
            using var other = new HttpClient(RawHttp.HandlerFrom(s_other)) { BaseAddress = server.BaseAddress, Timeout = RawHttp.Timeout };
            using var health = await other.GetAsync(new Uri("healthz", UriKind.Relative), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            // A slot given back is a slot to take again.
            held[0].Dispose();
            held.RemoveAt(0);
            await WaitForAsync(() => limiter.OpenFrom(IPAddress.Loopback) == 4);
            using var again = new HttpClient { BaseAddress = server.BaseAddress, Timeout = RawHttp.Timeout };
            using var ok = await again.GetAsync(new Uri("healthz", UriKind.Relative), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task The_connection_past_the_node_limit_gets_503()
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Connections:MaxConnections"] = "3",
            ["Herald:Connections:MaxConnectionsPerIp"] = "0",
        });
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
                held.Add(await RawHttp.ConnectAsync(server.BaseAddress, i % 2 == 0 ? null : s_other, timeout.Token));
            var limiter = server.Services.GetRequiredService<ConnectionLimiter>();
            await WaitForAsync(() => limiter.Open == 3);

            using var refused = await RawHttp.ConnectAsync(server.BaseAddress, s_other, timeout.Token);
            await RawHttp.SendAsync(refused, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout.Token);
            RawHttp.AssertProblem(await RawHttp.ReadUntilClosedAsync(refused, RawHttp.Timeout), 503, "too_many_connections");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_refused_connection_that_sends_nothing_is_closed_within_the_grace_period()
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Connections:MaxConnectionsPerIp"] = "1",
        });
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var first = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
        await WaitForAsync(() => server.Services.GetRequiredService<ConnectionLimiter>().OpenFrom(IPAddress.Loopback) == 1);
        using var second = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
        Assert.Empty(await RawHttp.ReadUntilClosedAsync(second, RawHttp.Timeout) ?? [0]);
    }

    [Fact]
    public async Task A_connection_limit_above_the_open_file_limit_stops_the_start_with_a_message()
    {
        var nofile = FileDescriptorLimit.Current;
        Assert.NotNull(nofile);
        var error = await Assert.ThrowsAsync<InvalidSettingsException>(() => TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Connections:MaxConnections"] = (nofile.Value.Soft - 1024 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        Assert.Contains("Herald:Connections:MaxConnections", error.Message, StringComparison.Ordinal);
        Assert.Contains("nofile", error.Message, StringComparison.Ordinal);

        // The largest value that fits is accepted.
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Connections:MaxConnections"] = (nofile.Value.Soft - 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    [Fact]
    public void IPv6_clients_are_counted_by_their_64_and_mapped_IPv4_as_IPv4()
    {
        Assert.Equal(
            ConnectionLimiter.Normalize(IPAddress.Parse("2001:db8:1:2:aaaa::1")),
            ConnectionLimiter.Normalize(IPAddress.Parse("2001:db8:1:2:bbbb::2")));
        Assert.NotEqual(
            ConnectionLimiter.Normalize(IPAddress.Parse("2001:db8:1:2::1")),
            ConnectionLimiter.Normalize(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal(IPAddress.Loopback, ConnectionLimiter.Normalize(IPAddress.Parse("::ffff:127.0.0.1")));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + RawHttp.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 60 s");
            await Task.Delay(20);
        }
    }
}
