using Herald.Client;

namespace Herald.IntegrationTests.Client;

/// <summary>Each of the five transports against a real Herald: subscribe, receive, publish, and resume across a network cut without loss or duplicates.</summary>
public sealed class ClientTransportTests : IAsyncLifetime
{
    private TestServer server = null!;
    private TcpProxy proxy = null!;

    public static TheoryData<HeraldTransport> All => [HeraldTransport.WebSocket, HeraldTransport.Sse, HeraldTransport.Stream, HeraldTransport.LongPoll, HeraldTransport.Poll];

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?> { ["Herald:Namespaces:secret:Subscribe"] = "ServerOnly" });
        proxy = TcpProxy.Start(server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        await server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task An_acknowledged_subscription_receives_every_publication_in_order_from_the_app_and_from_other_publishers(HeraldTransport transport)
    {
        var channel = Clients.FreshChannel();
        await using var client = Clients.Create(server.BaseAddress, [transport], o => o.ApiKey = TestServer.ApiKey);
        var log = new ClientLog(client);
        var subscription = await client.SubscribeAsync(channel, ChatJson.Default.Line).WaitAsync(TimeSpan.FromSeconds(30));
        var received = new Received<Line>(subscription);
        Assert.Equal(ConnectionState.Connected, client.State);
        Assert.Equal(transport, client.Transport);
        Assert.Contains($"connected:{transport}", log.Entries);

        // Acknowledged means registered: the very first publish after it is received.
        for (var n = 1; n <= 3; n++)
        {
            var result = await client.PublishAsync(channel, new Line(n), ChatJson.Default.Line).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(n, result.Offset);
            Assert.False(result.Duplicate);
        }

        using var http = server.CreateClient();
        (await http.PublishAsync(channel, """{"data":{"n":4},"type":"note"}""")).Dispose();
        (await http.PublishAsync(channel, """{"data":{"n":5}}""")).Dispose();

        await received.Count(5);
        Assert.Equal(Clients.Range(1, 5), received.Offsets);
        Assert.Equal([1, 2, 3, 4, 5], received.Publications.Select(p => p.Data.N));
        Assert.All(received.Publications, p => Assert.Equal(channel, p.Channel));
        Assert.All(received.Publications, p => Assert.Matches("^[0-9a-f]{32}$", p.Id));
        Assert.Equal("note", received.Publications[3].Type);
        Assert.Equal(received.Publications[0].Epoch, subscription.Position?.Epoch);
        Assert.Equal(5, subscription.Position?.Offset);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Resumes_after_a_network_cut_with_exactly_the_publications_it_missed(HeraldTransport transport)
    {
        var channel = Clients.FreshChannel();
        await using var client = Clients.Create(proxy.BaseAddress, [transport]);
        var log = new ClientLog(client);
        var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));
        using var http = server.CreateClient();
        for (var n = 1; n <= 3; n++)
            (await http.PublishAsync(channel, $$"""{"data":{{n}}}""")).Dispose();
        await received.Count(3);

        proxy.Cut();
        await Clients.Until(() => client.State != ConnectionState.Connected, TimeSpan.FromSeconds(30), () => "the client did not notice the cut: " + log);
        for (var n = 4; n <= 23; n++)
            (await http.PublishAsync(channel, $$"""{"data":{{n}}}""")).Dispose();
        proxy.Restore();

        await received.Count(23);
        // A late duplicate would arrive before this one.
        (await http.PublishAsync(channel, """{"data":24}""")).Dispose();
        await received.Count(24);
        Assert.Equal(Clients.Range(1, 24), received.Offsets);
        Assert.Equal(transport, client.Transport);
        Assert.Contains(log.Entries, e => e.StartsWith("disconnected:", StringComparison.Ordinal));
        // It resumed from offset 3 rather than starting live.
        Assert.Contains($"recovered:{transport}:3", received.Events);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task Carries_subscriptions_added_and_removed_while_publications_flow_and_refuses_one_channel_alone(HeraldTransport transport)
    {
        var (a, b) = (Clients.FreshChannel(), Clients.FreshChannel());
        await using var client = Clients.Create(server.BaseAddress, [transport]);
        var onA = new Received<JsonData>(await client.SubscribeAsync(a).WaitAsync(TimeSpan.FromSeconds(30)));
        using var http = server.CreateClient();
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && sent < 200)
            {
                (await http.PublishAsync(a, $$"""{"data":{{sent + 1}}}""")).Dispose();
                Interlocked.Increment(ref sent);
                await Task.Delay(5);
            }
        });
        await onA.Count(10);
        var onB = new Received<JsonData>(await client.SubscribeAsync(b).WaitAsync(TimeSpan.FromSeconds(30)));
        var refused = client.Subscribe(Clients.FreshChannel("secret"));
        var error = await Assert.ThrowsAsync<HeraldException>(() => refused.WaitSubscribedAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("unauthorized", error.Code);
        Assert.False(refused.Active);
        (await http.PublishAsync(b, """{"data":1}""")).Dispose();
        await onB.Count(1);
        onB.Subscription.Unsubscribe();
        await onA.Count(Volatile.Read(ref sent) + 5);
        await stop.CancelAsync();
        await publisher.WaitAsync(TimeSpan.FromSeconds(30));
        (await http.PublishAsync(b, """{"data":2}""")).Dispose();

        await onA.Count(sent);
        await Task.Delay(200);
        Assert.Equal(Clients.Range(1, sent), onA.Offsets);
        Assert.Equal([1L], onB.Offsets);
        Assert.DoesNotContain(onA.Events, e => e.StartsWith("reset", StringComparison.Ordinal) || e.StartsWith("error", StringComparison.Ordinal));
    }
}
