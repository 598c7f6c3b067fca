using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Typing;

/// <summary>Typing owned by the server: the whole set on each change, cleared on stop, on a message, on leaving and on expiry.</summary>
public sealed class TypingTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:room:Typing"] = "true",
        ["Herald:Namespaces:room:Publish"] = "Authenticated",
        ["Herald:Namespaces:room:TypingResend"] = "00:00:01",
        ["Herald:Namespaces:room:TypingExpire"] = "00:00:02",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Typing_and_typing_stop_send_the_whole_set_and_the_subscribe_reply_announces_the_timings()
    {
        const string channel = "room:a";
        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var reply = await alice.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""");
        Assert.Equal(1000, reply.GetProperty("typing").GetProperty("resend").GetInt32());
        Assert.Equal(2000, reply.GetProperty("typing").GetProperty("expire").GetInt32());
        await using var bob = await SubscribedAsync("bob", channel);

        Assert.Equal("typing_set", (await bob.RequestAsync($$"""{"id":2,"op":"typing","channel":"{{channel}}"}""")).GetProperty("type").GetString());
        var typing = await alice.ReceiveAsync();
        Assert.Equal("typing", typing.GetProperty("type").GetString());
        Assert.Equal(["bob"], Users(typing));
        Assert.Equal(1, typing.GetProperty("total").GetInt32());

        // A new subscriber learns who types now.
        await using var carol = await SubscribedAsync("carol", channel);
        Assert.Equal(["bob"], Users(await carol.ReceiveAsync()));

        await bob.RequestAsync($$"""{"id":3,"op":"typing_stop","channel":"{{channel}}"}""");
        Assert.Empty(Users(await alice.ReceiveAsync()));
    }

    [Fact]
    public async Task A_message_a_dropped_connection_and_silence_each_end_typing()
    {
        const string channel = "room:b";
        await using var alice = await SubscribedAsync("alice", channel);
        var bob = await SubscribedAsync("bob", channel);

        // A message from the typer stops it.
        await bob.RequestAsync($$"""{"id":2,"op":"typing","channel":"{{channel}}"}""");
        Assert.Equal(["bob"], Users(await alice.ReceiveAsync()));
        await bob.SendAsync($$"""{"id":3,"op":"publish","channel":"{{channel}}","data":"hi"}""");
        var after = new[] { await alice.ReceiveAsync(), await alice.ReceiveAsync() };
        Assert.Contains(after, m => m.GetProperty("type").GetString() == "publication");
        Assert.Contains(after, m => m.GetProperty("type").GetString() == "typing" && Users(m).Length == 0);

        // Leaving the channel (here: the connection drops) stops it.
        await bob.RequestAsync($$"""{"id":4,"op":"typing","channel":"{{channel}}"}""");
        await NextTypingAsync(alice, ["bob"]);
        bob.Abort();
        await bob.DisposeAsync();
        await NextTypingAsync(alice, []);

        // A typer who goes silent expires (TypingExpire: 2 s).
        await using var carol = await SubscribedAsync("carol", channel);
        await carol.RequestAsync($$"""{"id":5,"op":"typing","channel":"{{channel}}"}""");
        await NextTypingAsync(alice, ["carol"]);
        await NextTypingAsync(alice, []);
    }

    [Fact]
    public async Task POST_typing_reaches_SSE_subscribers_and_bad_requests_get_clear_errors()
    {
        const string channel = "room:http";
        using var api = server.CreateClient();
        await using var sse = await PushClient.ConnectAsync(api, "sse", [channel]);
        await sse.ExpectAsync("subscribed");

        using var dave = server.CreateClient(Tokens.Mint("dave"));
        using (var response = await PostAsync(dave, channel, """{"typing":true}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var body = await response.ReadJsonAsync();
            Assert.Equal(1000, body.GetProperty("resend").GetInt32());
        }

        Assert.Equal(["dave"], Users((await sse.ExpectAsync("typing")).Json));

        using (var off = await PostAsync(dave, "news:a", """{"typing":true}"""))
            Assert.Contains("typing_disabled", await off.Content.ReadAsStringAsync());
        using (var anonymous = await PostAsync(server.CreateClient(null), channel, """{"typing":true}"""))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var bad = await PostAsync(dave, channel, """{"typing":"yes"}"""))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        await using var ws = await WsClient.ConnectAsync(server);
        Assert.Equal("unauthorized", (await ws.RequestAsync($$"""{"id":1,"op":"typing","channel":"{{channel}}"}""")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_long_poll_naming_the_typing_set_it_has_returns_when_that_set_changes()
    {
        const string channel = "room:poll";
        using var api = server.CreateClient();
        var first = await PollAsync(api, $"v1/poll?channel={channel}&typing=0.{channel}&wait=0");
        var none = first.GetProperty("channels").GetProperty(channel).GetProperty("typing");
        Assert.Empty(Users(none));
        Assert.Equal("0", none.GetProperty("tag").GetString());
        var cursor = first.GetProperty("cursor").GetString();

        // Held with the set it has (nobody): a typer wakes it long before its wait.
        var held = PollAsync(api, $"v1/poll?channel={channel}&typing=0.{channel}&wait=20&cursor={cursor}");
        await using var bob = await SubscribedAsync("bob", channel);
        await bob.RequestAsync($$"""{"id":2,"op":"typing","channel":"{{channel}}"}""");
        var typing = (await held.WaitAsync(TimeSpan.FromSeconds(15))).GetProperty("channels").GetProperty(channel).GetProperty("typing");
        Assert.Equal(["bob"], Users(typing));
        Assert.Equal(1, typing.GetProperty("total").GetInt32());
        var tag = typing.GetProperty("tag").GetString();
        Assert.NotEqual("0", tag);

        // With that tag it holds, until bob stops.
        held = PollAsync(api, $"v1/poll?channel={channel}&typing={tag}.{channel}&wait=20&cursor={cursor}");
        await Task.Delay(300);
        Assert.False(held.IsCompleted, "the set did not change: the poll holds");
        await bob.RequestAsync($$"""{"id":3,"op":"typing_stop","channel":"{{channel}}"}""");
        typing = (await held.WaitAsync(TimeSpan.FromSeconds(15))).GetProperty("channels").GetProperty(channel).GetProperty("typing");
        Assert.Empty(Users(typing));
        Assert.Equal("0", typing.GetProperty("tag").GetString());

        // Only polls that ask get the member; a malformed one is refused.
        var plain = await PollAsync(api, $"v1/poll?channel={channel}&wait=0");
        Assert.False(plain.GetProperty("channels").GetProperty(channel).TryGetProperty("typing", out _));
        using var bad = await api.GetAsync(new Uri($"v1/poll?channel={channel}&typing=x.room:other&wait=0", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private static async Task<JsonElement> PollAsync(HttpClient client, string uri)
    {
        using var response = await client.GetAsync(new Uri(uri, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    private async Task<WsClient> SubscribedAsync(string user, string channel)
    {
        var client = await WsClient.ConnectAsync(server, bearer: Tokens.Mint(user));
        Assert.Equal("subscribed", (await client.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""")).GetProperty("type").GetString());
        return client;
    }

    private static async Task NextTypingAsync(WsClient client, string[] expected)
    {
        var message = await client.ReceiveAsync();
        Assert.Equal("typing", message.GetProperty("type").GetString());
        Assert.Equal(expected, Users(message));
    }

    private static string[] Users(JsonElement typing) => [.. typing.GetProperty("users").EnumerateArray().Select(u => u.GetString()!)];

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string channel, string body) =>
        client.PostAsync(new Uri($"v1/channels/{channel}/typing", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
}
