using System.Net;
using System.Net.Http.Json;
using System.Text;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.ChannelKinds;

/// <summary>Personal (<c>me:</c>) and direct (<c>dm:</c>) channels and the token's <c>channels</c> claim, over HTTP, SSE, polling and WebSocket.</summary>
public sealed class ChannelKindsTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:team:Subscribe"] = "ServerOnly",
        ["Herald:Namespaces:team:Publish"] = "ServerOnly",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private HttpClient As(string user) => server.CreateClient(Tokens.Mint(user));

    [Fact]
    public async Task Members_publish_and_read_a_direct_channel_others_are_refused()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        using var carol = As("carol");
        using (var published = await alice.PublishAsync("dm:alice~bob", """{"data":{"text":"hi bob"}}""").WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(1, (await bob.HistoryAsync("dm:alice~bob")).GetProperty("top").GetInt64());

        using var refused = await carol.GetAsync(new Uri("v1/channels/dm:alice~bob/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var sse = await carol.GetAsync(new Uri("v1/sse?channel=dm:alice~bob", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, sse.StatusCode);
        using var poll = await server.CreateClient(apiKey: null).GetAsync(new Uri("v1/poll?channel=dm:alice~bob&wait=0", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Unauthorized, poll.StatusCode);
        using var publish = await carol.PublishAsync("dm:alice~bob", """{"data":1}""").WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, publish.StatusCode);
        Assert.Equal(1, (await server.CreateClient().HistoryAsync("dm:alice~bob")).GetProperty("top").GetInt64());
    }

    [Fact]
    public async Task A_non_canonical_direct_name_is_refused_with_the_canonical_one_over_HTTP_and_WebSocket()
    {
        using var bob = As("bob");
        using var response = await bob.PublishAsync("dm:bob~alice", """{"data":1}""").WaitAsync(HttpJson.Timeout);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("non_canonical_channel", problem.GetProperty("code").GetString());
        Assert.Equal("dm:alice~bob", problem.GetProperty("canonical").GetString());

        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        var reply = await ws.RequestAsync("""{"id":1,"op":"subscribe","channel":"dm:bob~alice"}""");
        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal("non_canonical_channel", reply.GetProperty("code").GetString());
        Assert.Equal("dm:alice~bob", reply.GetProperty("canonical").GetString());
        var publish = await ws.RequestAsync("""{"id":2,"op":"publish","channel":"dm:bob~alice","data":1}""");
        Assert.Equal("non_canonical_channel", publish.GetProperty("code").GetString());
        var ok = await ws.RequestAsync("""{"id":3,"op":"subscribe","channel":"dm:alice~bob"}""");
        Assert.Equal("subscribed", ok.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_personal_channel_is_read_only_by_its_user_and_written_only_by_the_server()
    {
        using var server_ = server.CreateClient();
        using (var published = await server_.PublishAsync("me:alice", """{"data":{"mention":"chat:lobby"}}""").WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);

        using var alice = As("alice");
        Assert.Equal(1, (await alice.HistoryAsync("me:alice")).GetProperty("top").GetInt64());
        using var own = await alice.PublishAsync("me:alice", """{"data":1}""").WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);

        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        var reply = await ws.RequestAsync("""{"id":1,"op":"subscribe","channel":"me:alice"}""");
        Assert.Equal("forbidden", reply.GetProperty("code").GetString());
        var mine = await ws.RequestAsync("""{"id":2,"op":"subscribe","channel":"me:bob"}""");
        Assert.Equal("subscribed", mine.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_channels_claim_grants_exactly_its_operations_on_its_patterns()
    {
        var token = Tokens.Mint("alice", new Dictionary<string, object>
        {
            ["channels"] = new Dictionary<string, object> { ["team:42"] = new[] { "subscribe", "publish" }, ["team:ro-*"] = new[] { "subscribe" } },
        });
        using var alice = server.CreateClient(token);
        using (var published = await alice.PublishAsync("team:42", """{"data":1}""").WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(1, (await alice.HistoryAsync("team:42")).GetProperty("top").GetInt64());
        using (var poll = await alice.GetAsync(new Uri("v1/poll?channel=team:ro-1&wait=0", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        using (var readOnly = await alice.PublishAsync("team:ro-1", """{"data":1}""").WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
        using (var other = await alice.GetAsync(new Uri("v1/channels/team:43/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        using (var ungranted = await As("bob").GetAsync(new Uri("v1/channels/team:42/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Forbidden, ungranted.StatusCode);
    }

    [Fact]
    public async Task A_token_with_a_malformed_channels_claim_is_refused()
    {
        var token = Tokens.Mint("alice", new Dictionary<string, object> { ["channels"] = new[] { "team:42" } });
        using var response = await server.CreateClient(token).GetAsync(new Uri("v1/channels/news:a/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("'channels' claim", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task POST_direct_names_the_canonical_channel_or_a_hashed_one()
    {
        using var api = server.CreateClient();
        var listed = await PostDirectAsync(api, """{"members":["bob","alice","bob"]}""", HttpStatusCode.OK);
        Assert.Equal("dm:alice~bob", listed.GetProperty("channel").GetString());
        Assert.False(listed.GetProperty("hashed").GetBoolean());
        Assert.Equal(["alice", "bob"], listed.GetProperty("members").EnumerateArray().Select(m => m.GetString()));

        var hashed = await PostDirectAsync(api, """{"members":["Ann Smith","bob"]}""", HttpStatusCode.OK);
        Assert.True(hashed.GetProperty("hashed").GetBoolean());
        var channel = hashed.GetProperty("channel").GetString()!;
        Assert.StartsWith("dm:=", channel, StringComparison.Ordinal);
        using (var member = await As("bob").GetAsync(new Uri($"v1/channels/{channel}/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        var granted = Tokens.Mint("bob", new Dictionary<string, object> { ["channels"] = new Dictionary<string, object> { [channel] = new[] { "subscribe" } } });
        using (var member = await server.CreateClient(granted).GetAsync(new Uri($"v1/channels/{channel}/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.OK, member.StatusCode);

        using var alice = As("alice");
        await PostDirectAsync(alice, """{"members":["alice","bob"]}""", HttpStatusCode.OK);
        await PostDirectAsync(alice, """{"members":["bob","carol"]}""", HttpStatusCode.Forbidden);
        await PostDirectAsync(api, """{"members":["alice"]}""", HttpStatusCode.BadRequest);
        await PostDirectAsync(api, """{"members":["a","b","c","d","e","f","g","h","i","j","k"]}""", HttpStatusCode.BadRequest);
        await PostDirectAsync(api, """{"members":["a","b"],"namespace":"team"}""", HttpStatusCode.BadRequest);
        await PostDirectAsync(api, """{"members":"alice"}""", HttpStatusCode.BadRequest);
        await PostDirectAsync(server.CreateClient(apiKey: null), """{"members":["a","b"]}""", HttpStatusCode.Unauthorized);
    }

    private static async Task<System.Text.Json.JsonElement> PostDirectAsync(HttpClient client, string body, HttpStatusCode expected)
    {
        using var response = await client.PostAsync(new Uri("v1/direct", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json")).WaitAsync(HttpJson.Timeout);
        var json = await response.ReadJsonAsync();
        Assert.True(expected == response.StatusCode, $"{body}: {(int)response.StatusCode} {json}");
        return json;
    }
}
