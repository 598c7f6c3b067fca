using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Herald.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>Subscribing, resuming, publishing and coalescing over <c>GET /v1/ws</c>, against a real Kestrel.</summary>
public sealed class WebSocketTransportTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Publish"] = "Anyone",
        ["Herald:Namespaces:members:Publish"] = "Authenticated",
        ["Herald:Namespaces:members:Subscribe"] = "Authenticated",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Resume_after_disconnect_delivers_exactly_the_missed_messages_and_a_stale_epoch_is_not_recovered()
    {
        const string Channel = "chat:resume";
        using var http = server.CreateClient();

        long lastOffset;
        string epoch;
        await using (var first = await WsClient.ConnectAsync(server))
        {
            var reply = await first.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Channel}}"}""");
            Assert.Equal("subscribed", reply.GetProperty("type").GetString());
            Assert.Equal(1, reply.GetProperty("id").GetInt32());
            Assert.True(reply.GetProperty("recovered").GetBoolean());
            Assert.Equal(0, reply.GetProperty("offset").GetInt64());

            for (var i = 1; i <= 10; i++)
                await PublishOkAsync(http, Channel, $$$"""{"data":{"n":{{{i}}}}}""");

            for (var i = 1; i <= 10; i++)
            {
                var publication = await first.ReceiveAsync();
                Assert.Equal("publication", publication.GetProperty("type").GetString());
                Assert.Equal(Channel, publication.GetProperty("channel").GetString());
                Assert.Equal(i, publication.GetProperty("offset").GetInt64());
                Assert.Equal(i, publication.GetProperty("data").GetProperty("n").GetInt32());
            }

            lastOffset = 10;
            epoch = (await http.HistoryAsync(Channel)).GetProperty("epoch").GetString()!;

            // Cut mid-stream: no close handshake.
            first.Abort();
        }

        for (var i = 11; i <= 510; i++)
            await PublishOkAsync(http, Channel, $$$"""{"data":{"n":{{{i}}}}}""");

        await using (var second = await WsClient.ConnectAsync(server))
        {
            var reply = await second.RequestAsync($$$"""{"id":"r","op":"subscribe","channel":"{{{Channel}}}","since":{"epoch":"{{{epoch}}}","offset":{{{lastOffset}}}}}""");
            Assert.Equal("r", reply.GetProperty("id").GetString());
            Assert.True(reply.GetProperty("recovered").GetBoolean());
            Assert.Equal(epoch, reply.GetProperty("epoch").GetString());
            Assert.Equal(510, reply.GetProperty("offset").GetInt64());

            for (var expected = 11; expected <= 510; expected++)
            {
                var publication = await second.ReceiveAsync();
                Assert.Equal("publication", publication.GetProperty("type").GetString());
                Assert.Equal(expected, publication.GetProperty("offset").GetInt64());
                Assert.Equal(expected, publication.GetProperty("data").GetProperty("n").GetInt32());
            }

            // Live again, with nothing duplicated in between: the next message is offset 511.
            await PublishOkAsync(http, Channel, """{"data":{"n":511}}""");
            Assert.Equal(511, (await second.ReceiveAsync()).GetProperty("offset").GetInt64());
            var pong = await second.RequestAsync("""{"id":2,"op":"ping"}""");
            Assert.Equal("pong", pong.GetProperty("type").GetString());
        }

        await using var stale = await WsClient.ConnectAsync(server);
        var reset = await stale.RequestAsync($$$"""{"id":1,"op":"subscribe","channel":"{{{Channel}}}","since":{"epoch":"zzzzzzzz","offset":3}}""");
        Assert.Equal("subscribed", reset.GetProperty("type").GetString());
        Assert.False(reset.GetProperty("recovered").GetBoolean());
        Assert.Equal(epoch, reset.GetProperty("epoch").GetString());
        Assert.Equal(511, reset.GetProperty("offset").GetInt64());

        // Nothing replayed: the very next message is the answer to this ping.
        var next = await stale.RequestAsync("""{"id":2,"op":"ping"}""");
        Assert.Equal("pong", next.GetProperty("type").GetString());
        Assert.Equal(2, next.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_cursor_token_resumes_like_since()
    {
        const string Channel = "chat:cursor";
        using var http = server.CreateClient();
        for (var i = 1; i <= 5; i++)
            await PublishOkAsync(http, Channel, $$"""{"data":{{i}}}""");
        var epoch = (await http.HistoryAsync(Channel)).GetProperty("epoch").GetString()!;
        var cursor = Channels.Cursor.Encode(Channel, new Position(epoch, 3));

        await using var client = await WsClient.ConnectAsync(server);
        var reply = await client.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Channel}}","cursor":"{{cursor}}"}""");
        Assert.True(reply.GetProperty("recovered").GetBoolean());
        Assert.Equal(4, (await client.ReceiveAsync()).GetProperty("offset").GetInt64());
        Assert.Equal(5, (await client.ReceiveAsync()).GetProperty("offset").GetInt64());

        var bad = await client.RequestAsync("""{"id":2,"op":"subscribe","channel":"chat:other","cursor":"!!not-a-cursor"}""");
        AssertError(bad, 2, "invalid_cursor");
        var again = await client.RequestAsync($$"""{"id":3,"op":"subscribe","channel":"{{Channel}}"}""");
        AssertError(again, 3, "already_subscribed");
    }

    [Fact]
    public async Task Publish_over_the_socket_is_stored_with_the_token_user_as_from()
    {
        const string Channel = "chat:jwt";
        using var http = server.CreateClient();
        await using var client = await WsClient.ConnectAsync(server, "?token=" + Tokens.Mint("alice"));

        var reply = await client.RequestAsync($$"""{"id":7,"op":"publish","channel":"{{Channel}}","data":{"text":"hi there"},"type":"message"}""");
        Assert.Equal("published", reply.GetProperty("type").GetString());
        Assert.Equal(7, reply.GetProperty("id").GetInt32());
        Assert.Equal(1, reply.GetProperty("offset").GetInt64());

        var history = await http.HistoryAsync(Channel);
        var stored = Assert.Single(history.GetProperty("publications").EnumerateArray());
        Assert.Equal("alice", stored.GetProperty("from").GetString());
        Assert.Equal("message", stored.GetProperty("msgType").GetString());
        Assert.Equal("hi there", stored.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(reply.GetProperty("publicationId").GetString(), stored.GetProperty("id").GetString());

        // The same checks as HTTP publish: a server-only namespace refuses a user.
        AssertError(await client.RequestAsync("""{"id":8,"op":"publish","channel":"news:x","data":1}"""), 8, "forbidden");

        // History over the socket answers what HTTP does.
        var read = await client.RequestAsync($$"""{"id":9,"op":"history","channel":"{{Channel}}","after":0,"limit":10}""");
        Assert.Equal("history", read.GetProperty("type").GetString());
        Assert.Equal(1, read.GetProperty("top").GetInt64());
        Assert.Equal("alice", Assert.Single(read.GetProperty("publications").EnumerateArray()).GetProperty("from").GetString());
    }

    [Fact]
    public async Task Namespace_access_is_checked_per_op()
    {
        await using var anonymous = await WsClient.ConnectAsync(server);
        AssertError(await anonymous.RequestAsync("""{"id":1,"op":"subscribe","channel":"members:room"}"""), 1, "unauthorized");
        AssertError(await anonymous.RequestAsync("""{"id":2,"op":"publish","channel":"members:room","data":1}"""), 2, "unauthorized");
        AssertError(await anonymous.RequestAsync("""{"id":3,"op":"publish","channel":"news:x","data":1}"""), 3, "unauthorized");

        await using var user = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        Assert.Equal("subscribed", (await user.RequestAsync("""{"id":1,"op":"subscribe","channel":"members:room"}""")).GetProperty("type").GetString());
        // The publisher is also a subscriber: the push and the reply may come in either order.
        await user.SendAsync("""{"id":2,"op":"publish","channel":"members:room","data":{"a":1}}""");
        var two = new[] { await user.ReceiveAsync(), await user.ReceiveAsync() };
        Assert.Contains(two, m => m.GetProperty("type").GetString() == "published");
        var pushed = Assert.Single(two, m => m.GetProperty("type").GetString() == "publication");
        Assert.Equal("bob", pushed.GetProperty("from").GetString());

        Assert.Equal("unsubscribed", (await user.RequestAsync("""{"id":3,"op":"unsubscribe","channel":"members:room"}""")).GetProperty("type").GetString());
        AssertError(await user.RequestAsync("""{"id":4,"op":"unsubscribe","channel":"members:room"}"""), 4, "not_subscribed");
    }

    [Fact]
    public async Task A_burst_is_coalesced_into_newline_joined_frames_and_every_message_arrives_in_order()
    {
        const string Channel = "chat:burst";
        const int Count = 2000;
        var log = server.Services.GetRequiredService<IChannelLog>();
        await using var client = await WsClient.ConnectAsync(server);
        Assert.Equal("subscribed", (await client.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{Channel}}"}""")).GetProperty("type").GetString());

        // The client reads nothing while the burst is appended in a tight loop, so the session's
        // writer finds many messages queued each time it wakes.
        var data = Encoding.UTF8.GetBytes("""{"text":"burst"}""");
        for (var i = 0; i < Count; i++)
            await log.AppendAsync(new AppendRequest(Channel, data, Retention.Default)).AsTask().WaitAsync(HttpJson.Timeout);

        client.FrameSizes.Clear();
        for (var expected = 1; expected <= Count; expected++)
            Assert.Equal(expected, (await client.ReceiveAsync()).GetProperty("offset").GetInt64());

        // Every frame parsed as '\n'-joined JSON (WsClient would have thrown otherwise). A writer
        // that never found two messages queued in 2,000 tight-loop appends is not coalescing.
        Assert.Equal(Count, client.FrameSizes.Sum());
        Assert.Contains(client.FrameSizes, size => size > 1);
    }

    [Fact]
    public async Task Several_requests_in_one_frame_are_answered_in_order()
    {
        await using var client = await WsClient.ConnectAsync(server);
        await client.SendAsync("{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"subscribe\",\"channel\":\"chat:multi\"}\n\n{\"id\":3,\"op\":\"ping\"}\n");
        Assert.Equal(1, (await client.ReceiveAsync()).GetProperty("id").GetInt32());
        Assert.Equal("subscribed", (await client.ReceiveAsync()).GetProperty("type").GetString());
        Assert.Equal(3, (await client.ReceiveAsync()).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Server_shutdown_closes_with_3001()
    {
        var own = await TestServer.StartAsync(store: "memory");
        WsClient? client = null;
        try
        {
            client = await WsClient.ConnectAsync(own);
            Assert.Equal("subscribed", (await client.RequestAsync("""{"id":1,"op":"subscribe","channel":"chat:bye"}""")).GetProperty("type").GetString());
            var stopping = own.DisposeAsync().AsTask();
            Assert.Equal((WebSocketCloseStatus)3001, await client.WaitForCloseAsync());
            Assert.Equal("shutdown", client.CloseStatusDescription);
            await stopping.WaitAsync(HttpJson.Timeout);
        }
        finally
        {
            if (client is not null)
                await client.DisposeAsync();
        }
    }

    internal static void AssertError(JsonElement reply, int id, string code)
    {
        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal(id, reply.GetProperty("id").GetInt32());
        Assert.Equal(code, reply.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(reply.GetProperty("message").GetString()));
    }

    private static async Task PublishOkAsync(HttpClient http, string channel, string body)
    {
        using var response = await http.PublishAsync(channel, body);
        Assert.True(response.IsSuccessStatusCode, $"publish answered {(int)response.StatusCode}");
    }
}
