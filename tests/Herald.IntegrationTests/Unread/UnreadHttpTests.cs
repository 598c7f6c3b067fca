using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Unread;

/// <summary>Read markers and unread counts over HTTP and the WebSocket <c>read</c> op, on the memory and SQLite engines.</summary>
public sealed class UnreadHttpTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:room:Publish"] = "Authenticated",
        ["Herald:Namespaces:room:Subscribe"] = "Authenticated",
        ["Herald:Namespaces:typed:Publish"] = "Authenticated",
        ["Herald:Namespaces:typed:UnreadTypes:0"] = "message",
        ["Herald:Namespaces:secret:Subscribe"] = "ServerOnly",
        ["Herald:Unread:MaxMentionsPerMessage"] = "2",
        ["Herald:Unread:MaxChannels"] = "3",
        ["Herald:Unread:SyncInterval"] = "00:00:03",
    };

    private static HttpClient As(TestServer server, string user) => server.CreateClient(Tokens.Mint(user));

    private static async Task<JsonElement> PublishAsync(HttpClient client, string channel, string body)
    {
        using var response = await client.PublishAsync(channel, body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> MarkAsync(HttpClient client, string channel, string? body = null, string path = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path.Length > 0 ? path : $"v1/channels/{channel}/read");
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> UnreadAsync(HttpClient client, string query = "", string path = "v1/me/unread")
    {
        using var response = await client.GetAsync(new Uri(path + query, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        return (response.StatusCode, await response.ReadJsonAsync());
    }

    private static JsonElement Channel(JsonElement summary, string channel) =>
        summary.GetProperty("channels").EnumerateArray().Single(c => c.GetProperty("channel").GetString() == channel);

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Markers_move_forward_unread_counts_follow_and_the_publisher_has_read_its_own(string store)
    {
        await using var server = await TestServer.StartAsync(store, s_settings);
        using var alice = As(server, "alice");
        using var bob = As(server, "bob");
        for (var i = 0; i < 3; i++)
        {
            var published = await PublishAsync(bob, "room:a", "{\"data\":{\"i\":" + i + "}}");
            Assert.Equal(i + 1, published.GetProperty("n").GetInt64());
        }

        var (status, before) = await UnreadAsync(alice, "?channels=room:a");
        Assert.Equal(HttpStatusCode.OK, status);
        var a = Channel(before, "room:a");
        Assert.Equal((3L, 3L, 1L), (a.GetProperty("unread").GetInt64(), a.GetProperty("n").GetInt64(), a.GetProperty("firstUnread").GetInt64()));
        Assert.False(a.TryGetProperty("read", out _));
        Assert.Equal(3, before.GetProperty("total").GetInt64());

        var (marked, at2) = await MarkAsync(alice, "room:a", """{"offset":2}""");
        Assert.Equal(HttpStatusCode.OK, marked);
        Assert.True(at2.GetProperty("changed").GetBoolean());
        Assert.Equal(1, at2.GetProperty("state").GetProperty("unread").GetInt64());
        Assert.Equal(2, at2.GetProperty("state").GetProperty("read").GetProperty("n").GetInt64());

        var (_, back) = await MarkAsync(alice, "room:a", """{"offset":1}""");
        Assert.False(back.GetProperty("changed").GetBoolean());
        Assert.Equal(2, back.GetProperty("state").GetProperty("read").GetProperty("offset").GetInt64());
        var (_, unmarked) = await MarkAsync(alice, "room:a", """{"offset":1,"unread":true}""");
        Assert.True(unmarked.GetProperty("changed").GetBoolean());
        Assert.Equal(2, unmarked.GetProperty("state").GetProperty("unread").GetInt64());

        // No body: everything read. The list of all the caller's channels has it.
        var (_, all) = await MarkAsync(alice, "room:a");
        Assert.Equal(0, all.GetProperty("state").GetProperty("unread").GetInt64());
        var (_, mine) = await UnreadAsync(alice);
        Assert.Equal(["room:a"], mine.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("channel").GetString()));

        // Bob's own messages are read by him.
        var (_, bobs) = await UnreadAsync(bob);
        Assert.Equal(0, Channel(bobs, "room:a").GetProperty("unread").GetInt64());

        // The server API answers for any user.
        using var server_ = server.CreateClient();
        var (serverStatus, aliceByServer) = await UnreadAsync(server_, "?channels=room:a", "v1/users/alice/unread");
        Assert.Equal(HttpStatusCode.OK, serverStatus);
        Assert.Equal(3, Channel(aliceByServer, "room:a").GetProperty("read").GetProperty("offset").GetInt64());
        var (setByServer, _) = await MarkAsync(server_, "room:a", """{"offset":1,"unread":true}""", "v1/users/alice/channels/room:a/read");
        Assert.Equal(HttpStatusCode.OK, setByServer);
        Assert.Equal(2, Channel((await UnreadAsync(alice)).Body, "room:a").GetProperty("unread").GetInt64());

        // Forgetting takes it off the list.
        using var forget = await alice.DeleteAsync(new Uri("v1/channels/room:a/read", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, forget.StatusCode);
        Assert.Empty((await UnreadAsync(alice)).Body.GetProperty("channels").EnumerateArray());
        using var again = await alice.DeleteAsync(new Uri("v1/channels/room:a/read", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Only_unread_types_count_carry_n_and_the_history_answers_the_top_ordinal()
    {
        await using var server = await TestServer.StartAsync("sqlite", s_settings);
        using var bob = As(server, "bob");
        Assert.Equal(1, (await PublishAsync(bob, "typed:a", """{"data":1,"type":"message"}""")).GetProperty("n").GetInt64());
        Assert.False((await PublishAsync(bob, "typed:a", """{"data":2,"type":"other"}""")).TryGetProperty("n", out _));
        Assert.False((await PublishAsync(bob, "typed:a", """{"data":3}""")).TryGetProperty("n", out _));
        Assert.Equal(2, (await PublishAsync(bob, "typed:a", """{"data":4,"type":"message"}""")).GetProperty("n").GetInt64());

        using var client = server.CreateClient();
        var history = await client.HistoryAsync("typed:a");
        Assert.Equal(2, history.GetProperty("n").GetInt64());
        Assert.Equal([1L, 0, 0, 2], history.GetProperty("publications").EnumerateArray().Select(p => p.TryGetProperty("n", out var n) ? n.GetInt64() : 0));

        using var alice = As(server, "alice");
        var (_, summary) = await UnreadAsync(alice, "?channels=typed:a");
        Assert.Equal(2, summary.GetProperty("total").GetInt64());
        var (_, at3) = await MarkAsync(alice, "typed:a", """{"offset":3}""");
        Assert.Equal((1L, 1L), (at3.GetProperty("state").GetProperty("read").GetProperty("n").GetInt64(), at3.GetProperty("state").GetProperty("unread").GetInt64()));
    }

    [Fact]
    public async Task Mentions_are_listed_until_read_shown_in_meta_and_limited_per_message()
    {
        await using var server = await TestServer.StartAsync("memory", s_settings);
        using var bob = As(server, "bob");
        using var alice = As(server, "alice");
        await PublishAsync(bob, "room:m", """{"data":"hi"}""");
        var mention = await PublishAsync(bob, "room:m", """{"data":"@alice @carol","mentions":["alice","carol","alice"]}""");
        var offset = mention.GetProperty("offset").GetInt64();

        var a = Channel((await UnreadAsync(alice)).Body, "room:m");
        Assert.Equal([offset], a.GetProperty("mentions").EnumerateArray().Select(m => m.GetInt64()));
        Assert.Equal(1, (await UnreadAsync(alice)).Body.GetProperty("mentions").GetInt64());
        using var client = server.CreateClient();
        var stored = (await client.HistoryAsync("room:m")).GetProperty("publications")[1];
        Assert.Equal(["alice", "carol"], stored.GetProperty("meta").GetProperty("mentions").EnumerateArray().Select(u => u.GetString()));

        await MarkAsync(alice, "room:m");
        Assert.Empty(Channel((await UnreadAsync(alice)).Body, "room:m").GetProperty("mentions").EnumerateArray());

        // The limit: two users (the setting) pass, three are refused and nothing is stored.
        using (var two = await bob.PublishAsync("room:m", """{"data":1,"mentions":["a","b"]}"""))
            Assert.Equal(HttpStatusCode.Created, two.StatusCode);
        using var three = await bob.PublishAsync("room:m", """{"data":1,"mentions":["a","b","c"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, three.StatusCode);
        Assert.Equal("invalid_mentions", (await three.ReadJsonAsync()).GetProperty("code").GetString());
        using var notArray = await bob.PublishAsync("room:m", """{"data":1,"mentions":"alice"}""");
        Assert.Equal(HttpStatusCode.BadRequest, notArray.StatusCode);
        Assert.Equal(3, (await client.HistoryAsync("room:m")).GetProperty("top").GetInt64());
    }

    [Fact]
    public async Task Bad_requests_get_their_documented_codes()
    {
        await using var server = await TestServer.StartAsync("memory", s_settings);
        using var alice = As(server, "alice");
        using var anonymous = server.CreateClient(apiKey: null);
        using var serverKey = server.CreateClient();
        var first = await PublishAsync(alice, "room:e", """{"data":1}""");

        Assert.Equal(HttpStatusCode.Unauthorized, (await UnreadAsync(anonymous)).Status);
        var (asServer, serverBody) = await UnreadAsync(serverKey);
        Assert.Equal((HttpStatusCode.BadRequest, "user_required"), (asServer, serverBody.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await UnreadAsync(alice, path: "v1/users/bob/unread")).Status);

        async Task Refused(HttpStatusCode status, string code, string? body, string channel = "room:e")
        {
            var (actual, problem) = await MarkAsync(alice, channel, body);
            Assert.Equal((status, code), (actual, problem.GetProperty("code").GetString()));
        }

        await Refused(HttpStatusCode.BadRequest, "invalid_offset", """{"offset":2}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_offset", """{"offset":-1}""");
        await Refused(HttpStatusCode.Conflict, "epoch_mismatch", """{"offset":1,"epoch":"other123"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_body", """{"offset":1,"extra":true}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_body", """{"offset":"one"}""");
        await Refused(HttpStatusCode.BadRequest, "invalid_channel", null, "bad name");
        await Refused(HttpStatusCode.Forbidden, "forbidden", null, "secret:x");
        var (ok, body) = await MarkAsync(alice, "room:e", $$"""{"offset":1,"epoch":"{{first.GetProperty("epoch").GetString()}}"}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(1, body.GetProperty("state").GetProperty("read").GetProperty("offset").GetInt64());

        // MaxChannels is 3 here: three pass, four are refused.
        Assert.Equal(HttpStatusCode.OK, (await UnreadAsync(alice, "?channels=room:a,room:b,room:c")).Status);
        var (tooMany, problem) = await UnreadAsync(alice, "?channels=room:a,room:b,room:c,room:d");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_query"), (tooMany, problem.GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, (await UnreadAsync(alice, "?channels=room:a,bad name")).Status);
    }

    [Fact]
    public async Task The_websocket_read_op_marks_and_other_devices_learn_it_on_the_personal_channel_coalesced()
    {
        await using var server = await TestServer.StartAsync("memory", s_settings);
        using var bob = As(server, "bob");
        for (var i = 0; i < 6; i++)
            await PublishAsync(bob, "room:s", $$"""{"data":{{i}}}""");

        await using var phone = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        Assert.Equal("subscribed", (await phone.RequestAsync("""{"id":1,"op":"subscribe","channel":"me:alice"}""")).GetProperty("type").GetString());
        await using var desktop = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));

        var reply = await desktop.RequestAsync("""{"id":2,"op":"read","channel":"room:s","offset":2}""");
        Assert.Equal(("read", true), (reply.GetProperty("type").GetString(), reply.GetProperty("changed").GetBoolean()));
        Assert.Equal(4, reply.GetProperty("state").GetProperty("unread").GetInt64());
        for (var offset = 3; offset <= 5; offset++)
            await desktop.RequestAsync($$"""{"id":{{offset}},"op":"read","channel":"room:s","offset":{{offset}}}""");
        var error = await desktop.RequestAsync("""{"id":9,"op":"read","channel":"room:s","offset":99}""");
        Assert.Equal("invalid_offset", error.GetProperty("code").GetString());

        // The first marker at once, then at most one per 3 s (the interval here) with the newest:
        // fewer syncs than markers, the last one the newest marker.
        var first = await phone.ReceiveAsync();
        Assert.Equal("herald.read", first.GetProperty("msgType").GetString());
        Assert.Equal(("room:s", 2L), (first.GetProperty("data").GetProperty("channel").GetString(), first.GetProperty("data").GetProperty("offset").GetInt64()));
        Assert.False(first.TryGetProperty("n", out _));
        var syncs = new List<JsonElement> { first };
        while (syncs[^1].GetProperty("data").GetProperty("offset").GetInt64() != 5)
            syncs.Add(await phone.ReceiveAsync());
        Assert.InRange(syncs.Count, 2, 3);
        Assert.Equal(5, syncs[^1].GetProperty("data").GetProperty("n").GetInt64());
        Assert.Equal(Enumerable.Range(1, syncs.Count).Select(o => (long)o), syncs.Select(p => p.GetProperty("offset").GetInt64()));

        // Anonymous connections have no marker.
        await using var anonymous = await WsClient.ConnectAsync(server);
        var refused = await anonymous.RequestAsync("""{"id":1,"op":"read","channel":"room:s"}""");
        Assert.Equal("error", refused.GetProperty("type").GetString());
    }
}
