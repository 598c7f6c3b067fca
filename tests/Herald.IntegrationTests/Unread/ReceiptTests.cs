using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Unread;

/// <summary>Receipts: seen and delivered per member, a snapshot then conflated diffs, over WebSocket, SSE and HTTP, on one node and across two.</summary>
public sealed class ReceiptTests
{
    private const string Dm = "dm:alice~bob";

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:dm:ReceiptsInterval"] = "00:00:00.300",
        ["Herald:Namespaces:room:Publish"] = "Authenticated",
        ["Herald:Namespaces:team:Publish"] = "Authenticated",
        ["Herald:Namespaces:team:Receipts"] = "Members",
        ["Herald:Namespaces:team:ReceiptsMaxMembers"] = "2",
    };

    private static HttpClient As(TestServer server, string user) => server.CreateClient(Tokens.Mint(user));

    private static async Task PublishAsync(HttpClient client, string channel, string data)
    {
        using var response = await client.PublishAsync(channel, $$"""{"data":"{{data}}"}""");
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PutAsync(HttpClient client, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    /// <summary>The receipts a client holds: each member's seen and delivered offsets, merged forward from the snapshot and the diffs.</summary>
    private sealed class Receipts
    {
        public Dictionary<string, (long Seen, long Delivered)> Members { get; } = new(StringComparer.Ordinal);

        public int Messages { get; private set; }

        public void Apply(JsonElement message)
        {
            Assert.Equal("receipts", message.GetProperty("type").GetString());
            Messages++;
            if (message.TryGetProperty("snapshot", out var snapshot) && snapshot.GetBoolean())
                Members.Clear();
            foreach (var member in message.GetProperty("members").EnumerateObject())
            {
                Members.TryGetValue(member.Name, out var held);
                var seen = member.Value.TryGetProperty("seen", out var s) ? s.GetProperty("offset").GetInt64() : 0;
                var delivered = member.Value.TryGetProperty("delivered", out var d) ? d.GetProperty("offset").GetInt64() : 0;
                Members[member.Name] = (Math.Max(held.Seen, seen), Math.Max(held.Delivered, delivered));
            }
        }

        public (long Seen, long Delivered) Of(string user) => Members.GetValueOrDefault(user);
    }

    /// <summary>Reads messages, applying receipts and skipping the rest, until <paramref name="done"/> holds.</summary>
    private static async Task UntilAsync(WsClient client, Receipts receipts, Func<Receipts, bool> done)
    {
        while (!done(receipts))
        {
            var message = await client.ReceiveAsync();
            if (message.GetProperty("type").GetString() == "receipts")
                receipts.Apply(message);
        }
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task A_direct_channel_shows_each_members_seen_and_delivered_and_a_private_read_shows_nothing(string store)
    {
        await using var server = await TestServer.StartAsync(store, Settings());
        using var alice = As(server, "alice");
        using var bob = As(server, "bob");
        await using var bobWs = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));

        var subscribed = await bobWs.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Dm}}","receipts":true}""");
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());
        var snapshot = await bobWs.ReceiveAsync();
        Assert.Equal(("receipts", true), (snapshot.GetProperty("type").GetString(), snapshot.GetProperty("snapshot").GetBoolean()));
        Assert.Empty(snapshot.GetProperty("members").EnumerateObject());
        var receipts = new Receipts();
        receipts.Apply(snapshot);

        // Alice's message: she has seen her own, so bob is shown alice seen 1.
        await PublishAsync(alice, Dm, "hi bob");
        await UntilAsync(bobWs, receipts, r => r.Of("alice").Seen == 1);

        // Bob's device received it, then bob read it: both shown, over the WebSocket ops.
        var delivered = await RequestSkippingAsync(bobWs, $$"""{"id":2,"op":"delivered","channel":"{{Dm}}","offset":1}""");
        Assert.Equal(("delivered", true, 1L), (delivered.GetProperty("type").GetString(), delivered.GetProperty("changed").GetBoolean(), delivered.GetProperty("delivered").GetProperty("offset").GetInt64()));
        var again = await RequestSkippingAsync(bobWs, $$"""{"id":3,"op":"delivered","channel":"{{Dm}}","offset":1}""");
        Assert.False(again.GetProperty("changed").GetBoolean());
        Assert.Equal("read", (await RequestSkippingAsync(bobWs, $$"""{"id":4,"op":"read","channel":"{{Dm}}","offset":1}""")).GetProperty("type").GetString());
        await UntilAsync(bobWs, receipts, r => r.Of("bob") == (1, 1));

        // A private read moves bob's unread count, not what alice is shown.
        await PublishAsync(alice, Dm, "second");
        var (privateStatus, privateBody) = await PutAsync(bob, $"v1/channels/{Dm}/read", """{"private":true}""");
        Assert.Equal(HttpStatusCode.OK, privateStatus);
        Assert.Equal(0, privateBody.GetProperty("state").GetProperty("unread").GetInt64());
        var (deliveredStatus, deliveredBody) = await PutAsync(bob, $"v1/channels/{Dm}/delivered");
        Assert.Equal((HttpStatusCode.OK, 2L), (deliveredStatus, deliveredBody.GetProperty("delivered").GetProperty("offset").GetInt64()));

        var (status, answer) = await GetAsync(alice, $"v1/channels/{Dm}/receipts");
        Assert.Equal(HttpStatusCode.OK, status);
        var bobs = answer.GetProperty("members").GetProperty("bob");
        Assert.Equal((1L, 2L), (bobs.GetProperty("seen").GetProperty("offset").GetInt64(), bobs.GetProperty("delivered").GetProperty("offset").GetInt64()));
        Assert.Equal(2, answer.GetProperty("members").GetProperty("alice").GetProperty("seen").GetProperty("offset").GetInt64());

        // A later ordinary read shows it; a reconnecting subscriber starts from a new snapshot with everything.
        await PutAsync(bob, $"v1/channels/{Dm}/read");
        await using var aliceWs = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        Assert.Equal("subscribed", (await aliceWs.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Dm}}","receipts":true}""")).GetProperty("type").GetString());
        var fresh = new Receipts();
        await UntilAsync(aliceWs, fresh, r => r.Messages > 0);
        Assert.Equal((2L, 2L), fresh.Of("bob"));
        Assert.Equal(2L, fresh.Of("alice").Seen);
    }

    /// <summary>Sends a request and returns its reply, applying nothing and skipping pushes that arrive first.</summary>
    private static async Task<JsonElement> RequestSkippingAsync(WsClient client, string json)
    {
        var id = JsonDocument.Parse(json).RootElement.GetProperty("id").GetInt64();
        await client.SendAsync(json);
        while (true)
        {
            var message = await client.ReceiveAsync();
            if (message.TryGetProperty("id", out var replyId) && replyId.GetInt64() == id)
                return message;
        }
    }

    [Fact]
    public async Task Sse_and_streaming_subscribers_ask_with_a_query_and_receive_receipts_events_polls_are_refused()
    {
        await using var server = await TestServer.StartAsync("memory", Settings());
        using var alice = As(server, "alice");
        using var bob = As(server, "bob");
        await PublishAsync(alice, Dm, "hello");

        await using var sse = await PushClient.ConnectAsync(bob, "sse", [Dm], extraQuery: "receipts=true");
        await sse.ExpectAsync("subscribed");
        var first = await sse.ExpectAsync("receipts");
        Assert.True(first.Json.GetProperty("snapshot").GetBoolean());
        Assert.Equal(1, first.Json.GetProperty("members").GetProperty("alice").GetProperty("seen").GetProperty("offset").GetInt64());

        await PutAsync(bob, $"v1/channels/{Dm}/read");
        var diff = await sse.ExpectSkippingAsync("receipts", "publication");
        Assert.False(diff.Json.TryGetProperty("snapshot", out _));
        Assert.Equal(1, diff.Json.GetProperty("members").GetProperty("bob").GetProperty("seen").GetProperty("offset").GetInt64());

        await using var stream = await PushClient.ConnectAsync(bob, "stream", [Dm], extraQuery: "receipts=true");
        await stream.ExpectAsync("subscribed");
        Assert.Equal(1, (await stream.ExpectAsync("receipts")).Json.GetProperty("members").GetProperty("bob").GetProperty("seen").GetProperty("offset").GetInt64());

        var (pollStatus, pollProblem) = await GetAsync(bob, $"v1/poll?channel={Dm}&receipts=true");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_query"), (pollStatus, pollProblem.GetProperty("code").GetString()));
        var (badStatus, _) = await GetAsync(bob, $"v1/sse?channel={Dm}&receipts=yes");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
    }

    [Fact]
    public async Task A_namespace_without_receipts_says_so_everywhere_and_a_channel_above_the_member_limit_shows_none()
    {
        await using var server = await TestServer.StartAsync("memory", Settings());
        using var alice = As(server, "alice");
        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));

        // room: public, receipts off by default.
        await PublishAsync(alice, "room:a", "x");
        Assert.Equal("subscribed", (await ws.RequestAsync("""{"id":1,"op":"subscribe","channel":"room:a","receipts":true}""")).GetProperty("type").GetString());
        var off = await ws.ReceiveAsync();
        Assert.Equal(("receipts", true, "disabled"), (off.GetProperty("type").GetString(), off.GetProperty("off").GetBoolean(), off.GetProperty("reason").GetString()));
        Assert.Equal("receipts_disabled", (await RequestSkippingAsync(ws, """{"id":2,"op":"delivered","channel":"room:a"}""")).GetProperty("code").GetString());
        var (status, problem) = await GetAsync(alice, "v1/channels/room:a/receipts");
        Assert.Equal((HttpStatusCode.Forbidden, "receipts_disabled"), (status, problem.GetProperty("code").GetString()));
        var (putStatus, _) = await PutAsync(alice, "v1/channels/room:a/delivered");
        Assert.Equal(HttpStatusCode.Forbidden, putStatus);

        // team: receipts for up to 2 members. Two: shown; a subscriber is told when a third arrives, and stops.
        await PublishAsync(alice, "team:t", "x");
        using var bob = As(server, "bob");
        await PutAsync(bob, "v1/channels/team:t/read");
        Assert.Equal("subscribed", (await ws.RequestAsync("""{"id":3,"op":"subscribe","channel":"team:t","receipts":true}""")).GetProperty("type").GetString());
        var shown = await ws.ReceiveAsync();
        Assert.Equal(["alice", "bob"], shown.GetProperty("members").EnumerateObject().Select(m => m.Name));

        using var carol = As(server, "carol");
        await PutAsync(carol, "v1/channels/team:t/read");
        JsonElement outgrown;
        do
            outgrown = await ws.ReceiveAsync();
        while (outgrown.GetProperty("type").GetString() != "receipts" || !outgrown.TryGetProperty("off", out _));
        Assert.Equal("too_many_members", outgrown.GetProperty("reason").GetString());
        var (teamStatus, team) = await GetAsync(alice, "v1/channels/team:t/receipts");
        Assert.Equal((HttpStatusCode.OK, true), (teamStatus, team.GetProperty("off").GetBoolean()));
        Assert.Empty(team.GetProperty("members").EnumerateObject());
    }

    [Fact]
    public async Task Bad_receipt_requests_get_clear_errors()
    {
        await using var server = await TestServer.StartAsync("memory", Settings());
        using var alice = As(server, "alice");
        using var carol = As(server, "carol");
        using var anonymous = server.CreateClient(apiKey: null);
        using var serverKey = server.CreateClient();
        await PublishAsync(alice, Dm, "x");

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(carol, $"v1/channels/{Dm}/receipts")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PutAsync(anonymous, $"v1/channels/{Dm}/delivered")).Status);
        Assert.Equal("user_required", (await PutAsync(serverKey, $"v1/channels/{Dm}/delivered")).Body.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(serverKey, $"v1/channels/{Dm}/receipts")).Status);
        var (offsetStatus, offset) = await PutAsync(alice, $"v1/channels/{Dm}/delivered", """{"offset":2}""");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_offset"), (offsetStatus, offset.GetProperty("code").GetString()));
        var (epochStatus, epoch) = await PutAsync(alice, $"v1/channels/{Dm}/delivered", """{"offset":1,"epoch":"other"}""");
        Assert.Equal((HttpStatusCode.Conflict, "epoch_mismatch"), (epochStatus, epoch.GetProperty("code").GetString()));
        var (bodyStatus, _) = await PutAsync(alice, $"v1/channels/{Dm}/delivered", """{"offset":1,"unknown":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, bodyStatus);

        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var notBoolean = await ws.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Dm}}","receipts":"yes"}""");
        Assert.Equal("bad_request", notBoolean.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Changes_are_conflated_the_first_at_once_then_at_most_one_diff_per_interval_with_the_newest_markers()
    {
        var settings = Settings();
        settings["Herald:Namespaces:dm:ReceiptsInterval"] = "00:00:02";
        await using var server = await TestServer.StartAsync("memory", settings);
        using var alice = As(server, "alice");
        using var bob = As(server, "bob");
        for (var i = 0; i < 6; i++)
            await PublishAsync(alice, Dm, $"m{i}");

        await using var aliceWs = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        Assert.Equal("subscribed", (await aliceWs.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Dm}}","receipts":true}""")).GetProperty("type").GetString());
        var receipts = new Receipts();
        await UntilAsync(aliceWs, receipts, r => r.Messages > 0);

        // Six delivered markers one after another: the first diff at once, the other five in one more (two on a machine slow enough to spread them over the interval).
        for (var offset = 1; offset <= 6; offset++)
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(bob, $"v1/channels/{Dm}/delivered", $$"""{"offset":{{offset}}}""")).Status);
        await UntilAsync(aliceWs, receipts, r => r.Of("bob").Delivered == 6);

        Assert.InRange(receipts.Messages - 1, 1, 3);
    }

    /// <summary>Two nodes on one Redis: a read on one node reaches a receipts subscriber on the other.</summary>
    [Fact]
    public async Task A_read_on_one_node_reaches_a_receipts_subscriber_on_another()
    {
        await using var redis = await Herald.Testing.RedisServer.StartAsync();
        var settings = Settings();
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        await using var a = await TestServer.StartAsync("redis", settings);
        await using var b = await TestServer.StartAsync("redis", settings);
        using var aliceOnA = As(a, "alice");
        using var bobOnB = As(b, "bob");
        await PublishAsync(aliceOnA, Dm, "over there");

        await using var aliceWs = await WsClient.ConnectAsync(a, bearer: Tokens.Mint("alice"));
        Assert.Equal("subscribed", (await aliceWs.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Dm}}","receipts":true}""")).GetProperty("type").GetString());
        var receipts = new Receipts();
        await UntilAsync(aliceWs, receipts, r => r.Messages > 0);
        Assert.Equal((1L, 0L), receipts.Of("alice"));

        await PutAsync(bobOnB, $"v1/channels/{Dm}/delivered");
        await PutAsync(bobOnB, $"v1/channels/{Dm}/read");
        await UntilAsync(aliceWs, receipts, r => r.Of("bob") == (1, 1));
        var (_, answer) = await GetAsync(As(b, "alice"), $"v1/channels/{Dm}/receipts");
        Assert.Equal(1, answer.GetProperty("members").GetProperty("bob").GetProperty("seen").GetProperty("offset").GetInt64());
    }
}
