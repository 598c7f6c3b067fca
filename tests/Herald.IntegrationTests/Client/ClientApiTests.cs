using System.Net;
using Herald.Client;

namespace Herald.IntegrationTests.Client;

/// <summary>Publish, history, subscribe options, iteration and disposal against a real server, over the WebSocket and over HTTP.</summary>
public sealed class ClientApiTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Namespaces:big:MaxMessageBytes"] = "300000",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    /// <summary>A client whose WebSocket is open, or one with no WebSocket, so requests go over HTTP.</summary>
    private async Task<HeraldClient> ConnectedAsync(bool webSocket, string? apiKey = TestServer.ApiKey, Action<HeraldClientOptions>? configure = null)
    {
        var client = Clients.Create(server.BaseAddress, webSocket ? [HeraldTransport.WebSocket] : [HeraldTransport.LongPoll], o =>
        {
            o.ApiKey = apiKey;
            configure?.Invoke(o);
        });
        await client.SubscribeAsync(Clients.FreshChannel()).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(webSocket ? HeraldTransport.WebSocket : HeraldTransport.LongPoll, client.Transport);
        return client;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Publishes_once_per_idempotency_key_answering_the_original_position_to_a_repeat(bool webSocket)
    {
        await using var client = await ConnectedAsync(webSocket);
        var channel = Clients.FreshChannel("news");
        var first = await client.PublishAsync(channel, new Line(1), ChatJson.Default.Line, new PublishOptions { IdempotencyKey = "key-1", Type = "note" }).WaitAsync(TimeSpan.FromSeconds(30));
        var again = await client.PublishAsync(channel, new Line(1), ChatJson.Default.Line, new PublishOptions { IdempotencyKey = "key-1", Type = "note" }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((channel, 1L, false), (first.Channel, first.Offset, first.Duplicate));
        Assert.Equal((first.Offset, first.Epoch, first.Id, true), (again.Offset, again.Epoch, again.Id, again.Duplicate));
        Assert.Matches("^[0-9a-f]{32}$", first.Id);
        Assert.Single((await client.HistoryAsync(channel).WaitAsync(TimeSpan.FromSeconds(30))).Publications);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reads_history_forward_windowed_and_newest_first_and_refuses_with_the_server_code(bool webSocket)
    {
        await using var client = await ConnectedAsync(webSocket);
        var channel = Clients.FreshChannel("news");
        for (var n = 1; n <= 7; n++)
            await client.PublishAsync(channel, new Line(n), ChatJson.Default.Line).WaitAsync(TimeSpan.FromSeconds(30));

        var all = await client.HistoryAsync(channel, ChatJson.Default.Line).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((channel, 7L, 1L), (all.Channel, all.Top, all.First));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], all.Publications.Select(p => p.Data.N));
        Assert.All(all.Publications, p => Assert.Equal(all.Epoch, p.Epoch));
        Assert.Equal([3L, 4L, 5L], (await client.HistoryAsync(channel, new HistoryOptions { After = 2, Limit = 3 })).Publications.Select(p => p.Offset));
        Assert.Equal([7L, 6L], (await client.HistoryAsync(channel, new HistoryOptions { Limit = 2, Reverse = true })).Publications.Select(p => p.Offset));
        var empty = await client.HistoryAsync(Clients.FreshChannel("news"));
        Assert.Equal((string.Empty, 0L, 1L, 0), (empty.Epoch, empty.Top, empty.First, empty.Publications.Count));

        await using var anonymous = await ConnectedAsync(webSocket, apiKey: null);
        var refused = await Assert.ThrowsAsync<HeraldException>(() => anonymous.PublishAsync("news:today", JsonData.Parse("{}")).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("unauthorized", refused.Code);
        Assert.False(refused.IsTransient);
    }

    [Fact]
    public async Task A_publish_whose_answer_was_lost_is_retried_with_the_same_key_and_appended_once()
    {
        var handler = new LoseFirstAnswer();
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.LongPoll], o =>
        {
            o.ApiKey = TestServer.ApiKey;
            o.HttpMessageHandler = handler;
        });
        var channel = Clients.FreshChannel("news");
        var result = await client.PublishAsync(channel, JsonData.Parse("""{"text":"once"}""")).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, handler.Posts);
        Assert.True(result.Duplicate);
        Assert.Equal(1, result.Offset);
        var history = await client.HistoryAsync(channel).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(history.Publications);
    }

    [Fact]
    public async Task Sends_a_publish_larger_than_the_WebSocket_cap_over_HTTP_and_keeps_the_socket()
    {
        await using var client = await ConnectedAsync(webSocket: true);
        var channel = Clients.FreshChannel("big");
        var text = new string('x', 100_000);
        var result = await client.PublishAsync(channel, JsonData.Parse($"{{\"text\":\"{text}\"}}")).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.Offset);
        Assert.Equal((ConnectionState.Connected, HeraldTransport.WebSocket), (client.State, client.Transport));
        var page = await client.HistoryAsync(channel).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100_000, page.Publications[0].Data.ToElement().GetProperty("text").GetString()!.Length);
    }

    [Fact]
    public async Task Publishes_over_HTTP_without_any_subscription_or_connection()
    {
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.ApiKey = TestServer.ApiKey);
        var channel = Clients.FreshChannel("news");
        Assert.Equal(1, (await client.PublishAsync(channel, JsonData.Null).WaitAsync(TimeSpan.FromSeconds(30))).Offset);
        Assert.Equal(ConnectionState.Disconnected, client.State);
        Assert.Equal("null", (await client.HistoryAsync(channel)).Publications[0].Data.ToString());
    }

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Sse)]
    [InlineData(HeraldTransport.Poll)]
    public async Task Resumes_from_a_position_history_first_then_everything_after_it(HeraldTransport transport)
    {
        await using var client = Clients.Create(server.BaseAddress, [transport], o => o.ApiKey = TestServer.ApiKey);
        var channel = Clients.FreshChannel("news");
        for (var n = 1; n <= 4; n++)
            await client.PublishAsync(channel, new Line(n), ChatJson.Default.Line);
        var page = await client.HistoryAsync(channel, new HistoryOptions { Limit = 2, Reverse = true });
        await client.PublishAsync(channel, new Line(5), ChatJson.Default.Line);

        var received = Received<Line>.Subscribe(o => client.Subscribe(channel, ChatJson.Default.Line, o), new SubscribeOptions { Since = new Position(page.Epoch, page.Top) });
        await received.Count(1);
        await client.PublishAsync(channel, new Line(6), ChatJson.Default.Line);
        await received.Count(2);
        Assert.Equal([5L, 6L], received.Offsets);
        Assert.Equal([$"subscribed:{transport}:True", $"recovered:{transport}:4"], received.Events);

        var other = Clients.FreshChannel("news");
        var everything = Received<Line>.Subscribe(o => client.Subscribe(other, ChatJson.Default.Line, o), new SubscribeOptions { Since = Position.Start });
        for (var n = 1; n <= 3; n++)
            await client.PublishAsync(other, new Line(n), ChatJson.Default.Line);
        await everything.Count(3);
        Assert.Equal(Clients.Range(1, 3), everything.Offsets);
    }

    [Fact]
    public async Task Yields_to_await_foreach_from_the_acknowledgement_on_with_nothing_lost_until_unsubscribed()
    {
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.Stream], o => o.ApiKey = TestServer.ApiKey);
        var channel = Clients.FreshChannel("news");
        var subscription = await client.SubscribeAsync(channel, ChatJson.Default.Line).WaitAsync(TimeSpan.FromSeconds(30));
        // Published before the loop starts: the subscription holds them until it has a consumer.
        for (var n = 1; n <= 3; n++)
            await client.PublishAsync(channel, new Line(n), ChatJson.Default.Line);
        var seen = new List<int>();
        await foreach (var publication in subscription.WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            seen.Add(publication.Data.N);
            if (seen.Count == 3)
                subscription.Unsubscribe();
        }

        Assert.Equal([1, 2, 3], seen);
        Assert.False(subscription.Active);
        await Clients.Until(() => client.State == ConnectionState.Disconnected, TimeSpan.FromSeconds(30), () => $"still {client.State}");
    }

    [Fact]
    public async Task Configure_attaches_handlers_before_the_server_can_confirm_so_no_first_confirmation_is_missed()
    {
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.ApiKey = TestServer.ApiKey);
        await client.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var all = new List<Received<JsonData>>();
        for (var n = 0; n < 20; n++)
        {
            var channel = Clients.FreshChannel("news");
            await client.PublishAsync(channel, JsonData.Null).WaitAsync(TimeSpan.FromSeconds(30));
            all.Add(Received<JsonData>.Subscribe(o => client.Subscribe(channel, o), new SubscribeOptions { Since = Position.Start }));
        }

        foreach (var received in all)
        {
            await received.Event("recovered:");
            await received.Count(1);
            Assert.Equal(["subscribed:WebSocket:True", "recovered:WebSocket:0"], received.Events);
        }

        // A Configure that throws leaves nothing subscribed.
        var refused = Clients.FreshChannel("news");
        Assert.Throws<InvalidOperationException>(() => client.Subscribe(refused, new SubscribeOptions { Configure = _ => throw new InvalidOperationException("app") }));
        Assert.Null(client.GetSubscription(refused));
        Assert.NotNull(await client.SubscribeAsync(refused).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Refuses_bad_input_before_sending_anything_and_ends_everything_once_disposed()
    {
        var client = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket]);
        var states = new List<ConnectionState>();
        client.StateChanged += (_, s) =>
        {
            lock (states)
                states.Add(s);
        };
        Assert.Equal("invalid_channel", Assert.Throws<HeraldException>(() => client.Subscribe("no-namespace")).Code);
        Assert.Equal("invalid_channel", Assert.Throws<HeraldException>(() => client.Subscribe("Chat:upper-namespace")).Code);
        var channel = Clients.FreshChannel();
        var subscription = await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("already_subscribed", Assert.Throws<HeraldException>(() => client.Subscribe(channel)).Code);
        Assert.Equal("invalid_channel", (await Assert.ThrowsAsync<HeraldException>(() => client.PublishAsync("bad channel", JsonData.Null))).Code);
        Assert.Equal("bad_request", Assert.Throws<HeraldException>(() => JsonData.Parse("{oops")).Code);
        Assert.Equal("bad_request", (await Assert.ThrowsAsync<HeraldException>(() => client.PublishAsync(channel, default(JsonData)))).Code);

        await using var enumerator = subscription.GetAsyncEnumerator();
        var next = enumerator.MoveNextAsync().AsTask();
        await client.DisposeAsync();
        Assert.False(await next.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ConnectionState.Closed, client.State);
        lock (states)
            Assert.Equal([ConnectionState.Connecting, ConnectionState.Connected, ConnectionState.Closed], states);
        Assert.False(subscription.Active);
        Assert.Equal("closed", Assert.Throws<HeraldException>(() => client.Subscribe(Clients.FreshChannel())).Code);
    }

    /// <summary>A network that loses the answer to the first publish after the server has handled it.</summary>
    private sealed class LoseFirstAnswer() : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Posts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && Interlocked.Increment(ref Posts) == 1)
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                response.Dispose();
                throw new HttpRequestException("connection reset after the request was handled");
            }

            return response;
        }
    }
}
