using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;
using Herald.Testing;

namespace Herald.IntegrationTests.Signals;

/// <summary>Signals: ephemeral client events to a channel's current subscribers on every push transport and every node, never stored.</summary>
public sealed class SignalTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: Settings());

    public async Task DisposeAsync() => await server.DisposeAsync();

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:live:Signals"] = "true",
        ["Herald:Namespaces:live:MaxSignalBytes"] = "64",
        ["Herald:Namespaces:slow:Signals"] = "true",
        ["Herald:Namespaces:slow:SignalsPerSecond"] = "2",
    };

    [Fact]
    public async Task A_signal_from_a_WebSocket_reaches_WebSocket_SSE_and_NDJSON_subscribers_with_from_stamped_and_is_not_stored()
    {
        const string channel = "live:room-1";
        using var api = server.CreateClient();
        await using var sse = await PushClient.ConnectAsync(api, "sse", [channel]);
        await sse.ExpectAsync("subscribed");
        await using var ndjson = await PushClient.ConnectAsync(api, "stream", [channel]);
        await ndjson.ExpectAsync("subscribed");
        await using var watcher = await WsClient.ConnectAsync(server);
        Assert.Equal("subscribed", (await watcher.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""")).GetProperty("type").GetString());

        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var reply = await alice.RequestAsync($$$"""{"id":7,"op":"signal","channel":"{{{channel}}}","name":"reaction","data":{"emoji":"+1"}}""");
        Assert.Equal("signaled", reply.GetProperty("type").GetString());
        Assert.Equal(7, reply.GetProperty("id").GetInt32());

        foreach (var received in new[] { (await sse.ExpectAsync("signal")).Json, (await ndjson.ExpectAsync("signal")).Json, await watcher.ReceiveAsync() })
        {
            Assert.Equal("signal", received.GetProperty("type").GetString());
            Assert.Equal(channel, received.GetProperty("channel").GetString());
            Assert.Equal("reaction", received.GetProperty("name").GetString());
            Assert.Equal("alice", received.GetProperty("from").GetString());
            Assert.Equal("+1", received.GetProperty("data").GetProperty("emoji").GetString());
        }

        Assert.Equal(0, (await api.HistoryAsync(channel)).GetProperty("top").GetInt64());
    }

    [Fact]
    public async Task POST_signals_reaches_subscribers_and_answers_202()
    {
        const string channel = "live:room-2";
        await using var watcher = await WsClient.ConnectAsync(server);
        await watcher.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""");

        using var bob = server.CreateClient(Tokens.Mint("bob"));
        using var response = await PostAsync(bob, channel, """{"name":"typing-cursor","data":[1,2]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var received = await watcher.ReceiveAsync();
        Assert.Equal("bob", received.GetProperty("from").GetString());
        Assert.Equal("[1,2]", received.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task Signals_are_refused_where_the_namespace_does_not_enable_them_when_too_large_or_malformed()
    {
        using var api = server.CreateClient();
        using (var off = await PostAsync(api, "news:a", """{"name":"x"}"""))
            Assert.Equal("signals_disabled", await CodeAsync(off, HttpStatusCode.Forbidden));
        var sixtyFour = new string('a', 62);
        using (var fits = await PostAsync(api, "live:a", $$"""{"name":"x","data":"{{sixtyFour}}"}"""))
            Assert.Equal(HttpStatusCode.Accepted, fits.StatusCode);
        using (var tooLarge = await PostAsync(api, "live:a", $$"""{"name":"x","data":"{{sixtyFour}}a"}"""))
            Assert.Equal("message_too_large", await CodeAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge));
        using (var noName = await PostAsync(api, "live:a", """{"data":1}"""))
            Assert.Equal("invalid_body", await CodeAsync(noName, HttpStatusCode.BadRequest));
        using (var extra = await PostAsync(api, "live:a", """{"name":"x","to":"bob"}"""))
            Assert.Equal("invalid_body", await CodeAsync(extra, HttpStatusCode.BadRequest));

        await using var ws = await WsClient.ConnectAsync(server);
        Assert.Equal("signals_disabled", (await ws.RequestAsync("""{"id":1,"op":"signal","channel":"news:a","name":"x"}""")).GetProperty("code").GetString());
        Assert.Equal("message_too_large", (await ws.RequestAsync($$"""{"id":2,"op":"signal","channel":"live:a","name":"x","data":"{{sixtyFour}}a"}""")).GetProperty("code").GetString());
        Assert.Equal("bad_request", (await ws.RequestAsync("""{"id":3,"op":"signal","channel":"live:a"}""")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Past_SignalsPerSecond_a_connection_gets_rate_limited_stays_open_and_subscribers_get_exactly_the_accepted_ones()
    {
        const string channel = "slow:room";
        await using var watcher = await WsClient.ConnectAsync(server);
        await watcher.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""");
        await using var sender = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("carol"));

        // 30 requests in one message: far more than 2 per second, whatever the machine's speed.
        var burst = string.Join('\n', Enumerable.Range(1, 30).Select(i => $$"""{"id":{{i}},"op":"signal","channel":"{{channel}}","name":"n","data":{{i}}}"""));
        await sender.SendAsync(burst);
        var accepted = new List<int>();
        var limited = 0;
        for (var i = 0; i < 30; i++)
        {
            var reply = await sender.ReceiveAsync();
            if (reply.GetProperty("type").GetString() == "signaled")
                accepted.Add(reply.GetProperty("id").GetInt32());
            else if (reply.GetProperty("code").GetString() == "rate_limited")
                limited++;
        }

        Assert.Equal(30, accepted.Count + limited);
        Assert.InRange(accepted.Count, 2, 29);
        Assert.Equal("pong", (await sender.RequestAsync("""{"id":99,"op":"ping"}""")).GetProperty("type").GetString());

        // A publication after the burst marks its end: events and publications of a channel keep their order on a node.
        using (var marker = await server.CreateClient().PublishAsync(channel, """{"data":"end"}"""))
            Assert.Equal(HttpStatusCode.Created, marker.StatusCode);
        var seen = new List<int>();
        while (true)
        {
            var message = await watcher.ReceiveAsync();
            if (message.GetProperty("type").GetString() == "publication")
                break;
            seen.Add(message.GetProperty("data").GetInt32());
        }

        Assert.Equal(accepted, seen);
    }

    [Fact]
    public async Task On_Redis_a_signal_sent_to_one_node_reaches_a_subscriber_of_another()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = Settings();
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        await using var a = await TestServer.StartAsync("redis", settings);
        await using var b = await TestServer.StartAsync("redis", settings);

        const string channel = "live:nodes";
        await using var watcher = await WsClient.ConnectAsync(b);
        Assert.Equal("subscribed", (await watcher.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""")).GetProperty("type").GetString());
        using var response = await PostAsync(a.CreateClient(Tokens.Mint("dave")), channel, """{"name":"wave","data":{"x":1}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var received = await watcher.ReceiveAsync();
        Assert.Equal("wave", received.GetProperty("name").GetString());
        Assert.Equal("dave", received.GetProperty("from").GetString());
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string channel, string body) =>
        client.PostAsync(new Uri($"v1/channels/{channel}/signals", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(HttpJson.Timeout);

    private static async Task<string?> CodeAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("code").GetString();
    }
}
