using System.Net;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;
using Herald.Testing;
using static Herald.IntegrationTests.Users.UserApi;

namespace Herald.IntegrationTests.Users;

/// <summary>
/// <c>POST /v1/users/{user}/disconnect</c> and <c>…/unsubscribe</c>: every session of the user, on
/// every push transport and every node, and no one else's.
/// </summary>
public sealed class UserControlTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync("memory", Settings());

    public async Task DisposeAsync() => await server.DisposeAsync();

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Subscribe"] = "Authenticated",
    };

    [Fact]
    public async Task Disconnect_closes_every_session_of_the_user_with_3503_and_no_session_of_another_user()
    {
        using var api = server.CreateClient();
        using var aliceHttp = server.CreateClient(Tokens.Mint("alice"));
        await using var aliceWs = await WebSocketAsync(server, "alice", "chat:d1");
        await using var aliceIdle = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        await using var aliceSse = await PushAsync(aliceHttp, "sse", "chat:d1");
        await using var aliceStream = await PushAsync(aliceHttp, "stream", "chat:d1");
        await using var bobWs = await WebSocketAsync(server, "bob", "chat:d1");
        using var bobHttp = server.CreateClient(Tokens.Mint("bob"));
        await using var bobSse = await PushAsync(bobHttp, "sse", "chat:d1");

        var answer = await ExpectAsync(await DisconnectAsync(api, "alice"), HttpStatusCode.Accepted);
        Assert.Equal("alice", answer.GetProperty("user").GetString());
        Assert.False(answer.GetProperty("reconnect").GetBoolean());

        // A WebSocket with no subscription is a session of the user too.
        foreach (var ws in new[] { aliceWs, aliceIdle })
        {
            Assert.Equal(3503, (int?)await ws.WaitForCloseAsync());
            Assert.Equal("force disconnect", ws.CloseStatusDescription);
        }

        foreach (var push in new[] { aliceSse, aliceStream })
        {
            var disconnect = await DisconnectMessageAsync(push);
            Assert.Equal(3503, disconnect.GetProperty("code").GetInt32());
            Assert.Equal("force disconnect", disconnect.GetProperty("reason").GetString());
            Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
        }

        // Bob's sessions carry on: a request is answered, a publication delivered.
        Assert.Equal("pong", (await bobWs.RequestAsync("""{"id":9,"op":"ping"}""")).GetProperty("type").GetString());
        using (var published = await api.PublishAsync("chat:d1", """{"data":"still here"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("still here", (await bobWs.ReceiveAsync()).GetProperty("data").GetString());
        Assert.Equal("still here", (await bobSse.ExpectAsync("publication")).Json.GetProperty("data").GetString());

        // The token is still valid: the user may connect again (the application revokes it to keep them out).
        await using var again = await WebSocketAsync(server, "alice", "chat:d1");
    }

    [Fact]
    public async Task Disconnect_with_reconnect_true_closes_with_3021_and_tells_push_clients_to_reconnect()
    {
        using var api = server.CreateClient();
        using var http = server.CreateClient(Tokens.Mint("carol"));
        await using var ws = await WebSocketAsync(server, "carol", "chat:r1");
        await using var stream = await PushAsync(http, "stream", "chat:r1");

        var answer = await ExpectAsync(await DisconnectAsync(api, "carol", """{"reconnect":true}"""), HttpStatusCode.Accepted);
        Assert.True(answer.GetProperty("reconnect").GetBoolean());

        Assert.Equal(3021, (int?)await ws.WaitForCloseAsync());
        Assert.Equal("force reconnect", ws.CloseStatusDescription);
        var disconnect = await DisconnectMessageAsync(stream);
        Assert.Equal(3021, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
    }

    [Fact]
    public async Task Unsubscribe_tells_each_session_of_the_user_and_stops_that_channel_only_while_the_connections_stay_open()
    {
        using var api = server.CreateClient();
        using var http = server.CreateClient(Tokens.Mint("dave"));
        await using var ws = await WebSocketAsync(server, "dave", "chat:u1", "chat:u2");
        await using var sse = await PushAsync(http, "sse", "chat:u1", "chat:u2");
        await using var stream = await PushAsync(http, "stream", "chat:u1", "chat:u2");
        await using var bob = await WebSocketAsync(server, "bob", "chat:u1");

        // Something of chat:u1 before: the cursor moves past it, then forgets the channel.
        using (var first = await api.PublishAsync("chat:u1", """{"data":1}"""))
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(1, (await ws.ReceiveAsync()).GetProperty("offset").GetInt64());
        Assert.Equal(1, (await sse.ExpectAsync("publication")).Offset);
        Assert.Equal(1, (await stream.ExpectAsync("publication")).Offset);
        Assert.Equal(1, (await bob.ReceiveAsync()).GetProperty("offset").GetInt64());

        var answer = await ExpectAsync(await UnsubscribeAsync(api, "dave", """{"channel":"chat:u1"}"""), HttpStatusCode.Accepted);
        Assert.Equal("dave", answer.GetProperty("user").GetString());
        Assert.Equal("chat:u1", answer.GetProperty("channel").GetString());

        var wsNotice = await ws.ReceiveAsync();
        Assert.Equal("unsubscribed", wsNotice.GetProperty("type").GetString());
        Assert.Equal("chat:u1", wsNotice.GetProperty("channel").GetString());
        Assert.Equal("server unsubscribe", wsNotice.GetProperty("reason").GetString());
        Assert.False(wsNotice.TryGetProperty("id", out _));

        string? sseCursor = null;
        foreach (var push in new[] { sse, stream })
        {
            var notice = await push.ExpectAsync("unsubscribed");
            Assert.Equal("chat:u1", notice.Channel);
            Assert.Equal("server unsubscribe", notice.Json.GetProperty("reason").GetString());
            Assert.Equal(notice.Cursor, notice.Json.GetProperty("cursor").GetString());
            sseCursor ??= notice.Cursor;
        }

        // chat:u1 goes to bob only; chat:u2 still reaches every session of dave.
        using (var second = await api.PublishAsync("chat:u1", """{"data":2}"""))
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(2, (await bob.ReceiveAsync()).GetProperty("offset").GetInt64());
        using (var other = await api.PublishAsync("chat:u2", """{"data":"u2"}"""))
            Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        var next = await ws.ReceiveAsync();
        Assert.Equal("chat:u2", next.GetProperty("channel").GetString());
        Assert.Equal("chat:u2", (await sse.ExpectAsync("publication")).Channel);
        Assert.Equal("chat:u2", (await stream.ExpectAsync("publication")).Channel);

        // The socket stays open, and the unsubscribe is no ban: dave may subscribe again.
        Assert.Equal("pong", (await ws.RequestAsync("""{"id":20,"op":"ping"}""")).GetProperty("type").GetString());
        Assert.Equal("subscribed", (await ws.RequestAsync("""{"id":21,"op":"subscribe","channel":"chat:u1"}""")).GetProperty("type").GetString());

        // The notice's cursor no longer names chat:u1: resuming without it is not refused.
        await using var resumed = await PushClient.ConnectAsync(http, "sse", ["chat:u2"], sseCursor);
        var subscribed = await resumed.ExpectAsync("subscribed");
        Assert.True(subscribed.Entry("chat:u2").GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task Unsubscribe_from_a_channel_the_user_does_not_follow_changes_nothing()
    {
        using var api = server.CreateClient();
        await using var ws = await WebSocketAsync(server, "erin", "chat:n1");
        using (var response = await UnsubscribeAsync(api, "erin", """{"channel":"chat:other"}"""))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        using (var response = await UnsubscribeAsync(api, "nobody-here", """{"channel":"chat:n1"}"""))
            await ExpectAsync(response, HttpStatusCode.Accepted);

        using (var published = await api.PublishAsync("chat:n1", """{"data":"x"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("publication", (await ws.ReceiveAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Only_server_API_keys_may_call_it()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var user = server.CreateClient(Tokens.Mint("alice"));
        using var wrongKey = server.CreateClient("not-the-key");
        foreach (var (client, status, code) in new[]
        {
            (anonymous, HttpStatusCode.Unauthorized, "unauthorized"),
            (user, HttpStatusCode.Forbidden, "forbidden"),
            (wrongKey, HttpStatusCode.Forbidden, "forbidden"),
        })
        {
            Assert.Equal(code, await CodeAsync(await DisconnectAsync(client, "alice"), status));
            Assert.Equal(code, await CodeAsync(await UnsubscribeAsync(client, "alice", """{"channel":"chat:a"}"""), status));
        }
    }

    [Fact]
    public async Task Bad_input_is_answered_with_a_problem_saying_what_is_wrong()
    {
        using var api = server.CreateClient();
        var tooLong = new string('u', 257);
        Assert.Equal("invalid_user", await CodeAsync(await DisconnectAsync(api, tooLong), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_user", await CodeAsync(await UnsubscribeAsync(api, "a\u0001b", """{"channel":"chat:a"}"""), HttpStatusCode.BadRequest));
        using (var longest = await DisconnectAsync(api, new string('u', 256)))
            await ExpectAsync(longest, HttpStatusCode.Accepted);

        Assert.Equal("invalid_body", await CodeAsync(await UnsubscribeAsync(api, "alice", null), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await UnsubscribeAsync(api, "alice", "{}"), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":null}"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":"chat:a","user":"bob"}"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_channel", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":"no-namespace"}"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_channel", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":"$herald:control"}"""), HttpStatusCode.BadRequest));
        Assert.Equal("non_canonical_channel", await CodeAsync(await UnsubscribeAsync(api, "alice", """{"channel":"dm:bob~alice"}"""), HttpStatusCode.BadRequest));
        Assert.Equal("unsupported_media_type", await CodeAsync(await UnsubscribeAsync(api, "alice", "chat:a", "text/plain"), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("message_too_large", await CodeAsync(await UnsubscribeAsync(api, "alice", $$"""{"channel":"{{new string('x', 5000)}}"}"""), HttpStatusCode.RequestEntityTooLarge));

        Assert.Equal("invalid_body", await CodeAsync(await DisconnectAsync(api, "alice", """{"reconnect":"yes"}"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await DisconnectAsync(api, "alice", """{"code":4000}"""), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_body", await CodeAsync(await DisconnectAsync(api, "alice", "null"), HttpStatusCode.BadRequest));
        Assert.Equal("unsupported_media_type", await CodeAsync(await DisconnectAsync(api, "alice", "reconnect", "text/plain"), HttpStatusCode.UnsupportedMediaType));
        using (var empty = await DisconnectAsync(api, "alice", string.Empty))
            await ExpectAsync(empty, HttpStatusCode.Accepted);
        using (var defaults = await DisconnectAsync(api, "alice", "{}"))
            Assert.False((await ExpectAsync(defaults, HttpStatusCode.Accepted)).GetProperty("reconnect").GetBoolean());
    }

    [Fact]
    public async Task On_Redis_a_request_to_one_node_disconnects_and_unsubscribes_the_users_sessions_on_another()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = Settings();
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        await using var a = await TestServer.StartAsync("redis", settings);
        await using var b = await TestServer.StartAsync("redis", settings);

        using var onB = b.CreateClient(Tokens.Mint("frank"));
        await using var wsB = await WebSocketAsync(b, "frank", "chat:x1", "chat:x2");
        await using var sseB = await PushAsync(onB, "sse", "chat:x1");
        await using var wsA = await WebSocketAsync(a, "frank", "chat:x1");
        await using var otherB = await WebSocketAsync(b, "grace", "chat:x1");

        using var apiA = a.CreateClient();
        using (var response = await UnsubscribeAsync(apiA, "frank", """{"channel":"chat:x1"}"""))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("unsubscribed", (await wsB.ReceiveAsync()).GetProperty("type").GetString());
        Assert.Equal("chat:x1", (await sseB.ExpectAsync("unsubscribed")).Channel);
        Assert.Equal("unsubscribed", (await wsA.ReceiveAsync()).GetProperty("type").GetString());

        // Grace, on B, still follows chat:x1; frank still follows chat:x2.
        using (var published = await apiA.PublishAsync("chat:x1", """{"data":"x1"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("chat:x1", (await otherB.ReceiveAsync()).GetProperty("channel").GetString());
        using (var published = await apiA.PublishAsync("chat:x2", """{"data":"x2"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("chat:x2", (await wsB.ReceiveAsync()).GetProperty("channel").GetString());

        using (var response = await DisconnectAsync(apiA, "frank"))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        Assert.Equal(3503, (int?)await wsB.WaitForCloseAsync());
        Assert.Equal(3503, (int?)await wsA.WaitForCloseAsync());
        Assert.Equal(3503, (await DisconnectMessageAsync(sseB)).GetProperty("code").GetInt32());
        Assert.Equal("pong", (await otherB.RequestAsync("""{"id":9,"op":"ping"}""")).GetProperty("type").GetString());
    }
}
