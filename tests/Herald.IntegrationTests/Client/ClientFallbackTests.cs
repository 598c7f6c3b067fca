using Herald.Client;

namespace Herald.IntegrationTests.Client;

/// <summary>Transport fallback against a real server: a refused WebSocket, and a WebSocket a middlebox cuts as soon as it opens.</summary>
public sealed class ClientFallbackTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Moves_to_SSE_within_one_round_trip_when_the_server_refuses_the_WebSocket_and_still_publishes_and_receives()
    {
        var channel = Clients.FreshChannel();
        // A page on another origin: Herald refuses its WebSocket (403 origin_not_allowed) before the upgrade.
        await using var client = Clients.Create(server.BaseAddress, [.. HeraldTransports.Default], o =>
        {
            o.ApiKey = TestServer.ApiKey;
            o.Headers["Origin"] = "http://elsewhere.example";
        });
        var log = new ClientLog(client);
        var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(HeraldTransport.Sse, client.Transport);
        var entries = log.Entries;
        Assert.Equal("connecting:WebSocket", entries[0]);
        Assert.StartsWith("disconnected:WebSocket::failed to open", entries[1], StringComparison.Ordinal);
        Assert.Equal(["connecting:Sse", "connected:Sse"], entries[2..]);

        await client.PublishAsync(channel, JsonData.Parse("1")).WaitAsync(TimeSpan.FromSeconds(30));
        using var http = server.CreateClient();
        (await http.PublishAsync(channel, """{"data":2}""")).Dispose();
        await received.Count(2);
        Assert.Equal([1L, 2L], received.Offsets);
    }

    [Fact]
    public async Task Moves_on_from_a_WebSocket_that_is_cut_right_after_it_opens_three_times_in_a_row_losing_nothing()
    {
        await using var proxy = TcpProxy.Start(server.BaseAddress);
        proxy.KillWebSocketsAfter = TimeSpan.FromMilliseconds(300);
        var channel = Clients.FreshChannel();
        await using var client = Clients.Create(proxy.BaseAddress, [.. HeraldTransports.Default]);
        var log = new ClientLog(client);
        var received = Received<JsonData>.Subscribe(o => client.Subscribe(channel, o));
        await received.Event("subscribed:Sse", 60);

        Assert.Equal(3, proxy.WebSocketsSeen);
        Assert.Equal(3, log.Entries.Count(e => e == "connected:WebSocket"));
        using var http = server.CreateClient();
        for (var n = 1; n <= 3; n++)
            (await http.PublishAsync(channel, $$"""{"data":{{n}}}""")).Dispose();
        await received.Count(3);
        Assert.Equal(Clients.Range(1, 3), received.Offsets);
    }
}
