using Herald.Client;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Client;

/// <summary>What keeps a connection healthy: pongs for the idle timeout, fresh tokens, resume after a slow-consumer close.</summary>
public sealed class ClientConnectionTests
{
    [Fact]
    public async Task A_WebSocket_client_answers_the_server_pings_and_outlives_several_idle_timeouts_on_one_connection()
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:HeartbeatInterval"] = "00:00:01",
            ["Herald:Transports:WebSocketIdleTimeout"] = "00:00:02",
        });
        var channel = Clients.FreshChannel();
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket]);
        var log = new ClientLog(client);
        var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));

        await Task.Delay(TimeSpan.FromSeconds(7));
        using var http = server.CreateClient();
        (await http.PublishAsync(channel, """{"data":1}""")).Dispose();
        await received.Count(1);
        Assert.Empty(log.Disconnects);
        Assert.Equal(1, log.Entries.Count(e => e == "connected:WebSocket"));
    }

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Sse)]
    [InlineData(HeraldTransport.LongPoll)]
    public async Task Short_lived_tokens_are_asked_for_again_so_a_reconnect_after_expiry_resumes(HeraldTransport transport)
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:Auth:ClockSkew"] = "00:00:00",
            ["Herald:Namespaces:private:Subscribe"] = "Authenticated",
        });
        await using var proxy = TcpProxy.Start(server.BaseAddress);
        var calls = 0;
        var channel = Clients.FreshChannel("private");
        // The first token has already expired: the server refuses it and the client asks for another.
        await using var client = Clients.Create(proxy.BaseAddress, [transport], o => o.TokenProvider = _ =>
            new ValueTask<string?>(Interlocked.Increment(ref calls) == 1 ? Tokens.Mint("alice", TimeSpan.FromSeconds(-10)) : Tokens.Mint("alice", TimeSpan.FromSeconds(3))));
        var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));
        using var http = server.CreateClient();
        (await http.PublishAsync(channel, """{"data":1}""")).Dispose();
        await received.Count(1);
        var beforeCut = Volatile.Read(ref calls);
        Assert.True(beforeCut >= 2, $"the provider was called {beforeCut} times");

        // Let the token expire, then cut: the reconnect must present a fresh one and resume.
        await Task.Delay(TimeSpan.FromSeconds(4));
        proxy.Cut();
        await Clients.Until(() => client.State != ConnectionState.Connected, TimeSpan.FromSeconds(30), () => "the cut went unnoticed");
        (await http.PublishAsync(channel, """{"data":2}""")).Dispose();
        proxy.Restore();
        await received.Count(2);
        Assert.Equal([1L, 2L], received.Offsets);
        Assert.True(Volatile.Read(ref calls) > beforeCut);
        Assert.DoesNotContain(received.Events, e => e.StartsWith("error", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Stream)]
    public async Task A_slow_consumer_is_closed_with_3008_and_resumes_with_every_publication_exactly_once(HeraldTransport transport)
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:MaxQueuedBytesPerSession"] = "16384",
            ["Herald:DefaultPolicy:HistorySize"] = "100000",
        });
        // 3,000 x 6 KB: more than loopback TCP buffers hold (the sender's grows to 4 MiB), so the server's queue must pass its budget.
        const int Count = 3000;
        var channel = Clients.FreshChannel("news"); // chat: keeps 500 (appsettings.json); this one keeps them all
        await using var client = Clients.Create(server.BaseAddress, [transport], o => o.ApiKey = TestServer.ApiKey);
        var log = new ClientLog(client);
        var subscription = await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30));
        var received = new Received<JsonData>(subscription);
        // A handler that stops reading: the connection backs up until the server's budget runs out.
        using var gate = new ManualResetEventSlim(false);
        subscription.Received += (_, _) => gate.Wait(TimeSpan.FromSeconds(60));

        var padding = new string('x', 6000);
        using var http = server.CreateClient();
        for (var n = 1; n <= Count; n++)
            (await http.PublishAsync(channel, "{\"data\":{\"n\":" + n + ",\"pad\":\"" + padding + "\"}}")).Dispose();
        var stats = await (await http.GetAsync(new Uri("v1/stats", UriKind.Relative))).ReadJsonAsync();
        gate.Set();

        await received.Count(Count, 60);
        Assert.Equal(Clients.Range(1, Count), received.Offsets);
        Assert.True(stats.GetProperty("totals").GetProperty("slowConsumerDisconnects").GetInt64() >= 1, stats.ToString());
        Assert.Contains(log.Disconnects, d => d.RetryIn is not null);
        Assert.Contains(received.Events, e => e.StartsWith($"recovered:{transport}:", StringComparison.Ordinal));
        Assert.DoesNotContain(received.Events, e => e.StartsWith("reset", StringComparison.Ordinal));
    }
}
