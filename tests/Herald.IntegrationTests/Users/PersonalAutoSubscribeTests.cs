using System.Net;
using Herald.Channels;
using Herald.Engine;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;
using static Herald.IntegrationTests.Users.UserApi;

namespace Herald.IntegrationTests.Users;

/// <summary><c>Herald:Namespaces:me:AutoSubscribe</c>: a user's push connections follow <c>me:&lt;sub&gt;</c> from the start.</summary>
public sealed class PersonalAutoSubscribeTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync("memory", new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:me:AutoSubscribe"] = "true",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_users_WebSocket_is_subscribed_to_its_personal_channel_first_and_receives_its_publications()
    {
        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var subscribed = await alice.ReceiveAsync();
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());
        Assert.Equal("me:alice", subscribed.GetProperty("channel").GetString());
        Assert.True(subscribed.GetProperty("recovered").GetBoolean());
        Assert.False(subscribed.TryGetProperty("id", out _));

        await using var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        Assert.Equal("me:bob", (await bob.ReceiveAsync()).GetProperty("channel").GetString());

        using var api = server.CreateClient();
        using (var published = await api.PublishAsync("me:alice", """{"data":{"mention":"#general"}}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var publication = await alice.ReceiveAsync();
        Assert.Equal("me:alice", publication.GetProperty("channel").GetString());
        Assert.Equal(1, publication.GetProperty("offset").GetInt64());

        // Already followed; and another user's personal channel stays closed to her.
        var again = await alice.RequestAsync("""{"id":1,"op":"subscribe","channel":"me:alice"}""");
        Assert.Equal("already_subscribed", again.GetProperty("code").GetString());
        var other = await alice.RequestAsync("""{"id":2,"op":"subscribe","channel":"me:bob"}""");
        Assert.Equal("forbidden", other.GetProperty("code").GetString());

        // Bob saw nothing of alice's channel: his next message answers his own request.
        Assert.Equal("pong", (await bob.RequestAsync("""{"id":3,"op":"ping"}""")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Anonymous_connections_and_server_keys_are_not_subscribed_to_anything()
    {
        await using var anonymous = await WsClient.ConnectAsync(server);
        Assert.Equal("pong", (await anonymous.RequestAsync("""{"id":1,"op":"ping"}""")).GetProperty("type").GetString());
        await using var serverKey = await WsClient.ConnectAsync(server, bearer: TestServer.ApiKey);
        Assert.Equal("pong", (await serverKey.RequestAsync("""{"id":1,"op":"ping"}""")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_WebSocket_resumes_its_personal_channel_from_the_connect_URLs_cursor()
    {
        using var api = server.CreateClient();
        for (var i = 1; i <= 3; i++)
        {
            using var published = await api.PublishAsync("me:carol", $$"""{"data":{{i}}}""");
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }

        var epoch = (await api.HistoryAsync("me:carol")).GetProperty("epoch").GetString()!;

        // The cursor may name other channels the client holds positions of: they are ignored.
        var cursor = Cursor.Encode([new("chat:elsewhere", new Position("abc", 7)), new("me:carol", new Position(epoch, 1))]);
        await using var carol = await WsClient.ConnectAsync(server, "?cursor=" + cursor, bearer: Tokens.Mint("carol"));
        var subscribed = await carol.ReceiveAsync();
        Assert.Equal("me:carol", subscribed.GetProperty("channel").GetString());
        Assert.True(subscribed.GetProperty("recovered").GetBoolean());
        Assert.Equal(2, (await carol.ReceiveAsync()).GetProperty("offset").GetInt64());
        Assert.Equal(3, (await carol.ReceiveAsync()).GetProperty("offset").GetInt64());

        // A position of another epoch is a reset, never a silent gap.
        var stale = Cursor.Encode("me:carol", new Position("OtherEpc", 1));
        await using var reset = await WsClient.ConnectAsync(server, "?cursor=" + stale, bearer: Tokens.Mint("carol"));
        var resetReply = await reset.ReceiveAsync();
        Assert.False(resetReply.GetProperty("recovered").GetBoolean());
        Assert.Equal(3, resetReply.GetProperty("offset").GetInt64());

        // A malformed cursor is refused before the upgrade.
        Assert.Equal(400, await WsClient.RefusedStatusAsync(server, "?cursor=%21%21&token=" + Tokens.Mint("carol")));
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("stream")]
    public async Task An_SSE_or_NDJSON_connection_of_a_user_follows_its_personal_channel_after_the_named_ones(string transport)
    {
        using var api = server.CreateClient();
        using var http = server.CreateClient(Tokens.Mint("dora"));
        await using var push = await PushClient.ConnectAsync(http, transport, ["news:today"]);
        Assert.True((await push.ExpectAsync("subscribed")).Json.GetProperty("channels").TryGetProperty("news:today", out _));
        var personal = await push.ExpectAsync("subscribed");
        Assert.True(personal.Entry("me:dora").GetProperty("recovered").GetBoolean());

        using (var published = await api.PublishAsync("me:dora", """{"data":"for dora"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var publication = await push.ExpectAsync("publication");
        Assert.Equal("me:dora", publication.Channel);

        // Resumed by the cursor like any channel of the connection.
        using (var published = await api.PublishAsync("me:dora", """{"data":"missed"}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        await using var resumed = await PushClient.ConnectAsync(http, transport, ["news:today"], publication.Cursor);
        await resumed.ExpectAsync("subscribed");
        Assert.Equal(1, (await resumed.ExpectAsync("subscribed")).Entry("me:dora").GetProperty("offset").GetInt64());
        Assert.Equal(2, (await resumed.ExpectAsync("publication")).Offset);

        // Naming no channel at all is fine: the personal one is there.
        await using var alone = await PushClient.ConnectAsync(http, transport, []);
        Assert.True((await alone.ExpectAsync("subscribed")).Json.GetProperty("channels").TryGetProperty("me:dora", out _));
    }

    [Fact]
    public async Task Naming_the_personal_channel_too_subscribes_it_once_and_another_users_is_refused()
    {
        using var http = server.CreateClient(Tokens.Mint("erin"));
        await using var push = await PushClient.ConnectAsync(http, "sse", ["me:erin", "news:a"]);
        Assert.True((await push.ExpectAsync("subscribed")).Json.GetProperty("channels").TryGetProperty("me:erin", out _));
        Assert.True((await push.ExpectAsync("subscribed")).Json.GetProperty("channels").TryGetProperty("news:a", out _));
        using var api = server.CreateClient();
        using (var published = await api.PublishAsync("me:erin", """{"data":1}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal("me:erin", (await push.ExpectAsync("publication")).Channel);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PushClient.ConnectAsync(http, "sse", ["me:frank"]));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_API_unsubscribes_the_personal_channel_like_any_other()
    {
        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("gwen"));
        Assert.Equal("me:gwen", (await ws.ReceiveAsync()).GetProperty("channel").GetString());
        using var api = server.CreateClient();
        using (var response = await UnsubscribeAsync(api, "gwen", """{"channel":"me:gwen"}"""))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        var notice = await ws.ReceiveAsync();
        Assert.Equal("unsubscribed", notice.GetProperty("type").GetString());
        Assert.Equal("me:gwen", notice.GetProperty("channel").GetString());
    }
}

/// <summary>Without the setting nothing changes, and the setting is refused where it cannot apply.</summary>
public sealed class PersonalAutoSubscribeOffTests
{
    [Fact]
    public async Task By_default_a_users_connections_follow_only_what_they_name()
    {
        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Auth:HmacSecret"] = Tokens.Secret });
        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        Assert.Equal("pong", (await ws.RequestAsync("""{"id":1,"op":"ping"}""")).GetProperty("type").GetString());
        using var http = server.CreateClient(Tokens.Mint("alice"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PushClient.ConnectAsync(http, "sse", []));
        Assert.Contains("invalid_query", refused.Message, StringComparison.Ordinal);
    }
}
