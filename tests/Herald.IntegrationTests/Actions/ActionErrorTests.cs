using System.Net;
using System.Text;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Actions;

/// <summary>Every refusal of an edit, delete or reaction, with its status and code, over HTTP, the WebSocket and inbound webhooks.</summary>
public sealed class ActionErrorTests : IAsyncLifetime
{
    private const string InboundKey = "inbound-key-0123456789";
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Publish"] = "Authenticated",
        ["Herald:Namespaces:wiki:Publish"] = "Authenticated",
        ["Herald:Namespaces:wiki:Edits"] = "Any",
        ["Herald:Namespaces:frozen:Publish"] = "Authenticated",
        ["Herald:Namespaces:frozen:Edits"] = "Off",
        ["Herald:Namespaces:frozen:Reactions"] = "Off",
        ["Herald:Namespaces:frozen:Threads"] = "false",
        ["Herald:Namespaces:short:Publish"] = "Authenticated",
        ["Herald:Namespaces:short:HistorySize"] = "2",
        ["Herald:Namespaces:open:Publish"] = "Anyone",
        ["Herald:Namespaces:keys:Publish"] = "Authenticated",
        ["Herald:Namespaces:keys:MaxReactionKeyBytes"] = "8",
        ["Herald:Webhooks:Sources:ci:Scheme"] = "ApiKey",
        ["Herald:Webhooks:Sources:ci:Secrets:0"] = InboundKey,
        ["Herald:Webhooks:Sources:ci:Channel"] = "chat:{room}",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private HttpClient As(string user) => server.CreateClient(Tokens.Mint(user));

    [Fact]
    public async Task A_client_may_publish_only_the_client_actions_of_the_reserved_types()
    {
        using var alice = As("alice");
        await alice.PostAsync("chat:reserved", """{"t":"hi"}""");
        foreach (var type in new[] { "herald.thread", "herald.read", "herald.anything" })
            Assert.Contains("reserved", await alice.RefusedAsync("chat:reserved", """{"ref":1}""", type, HttpStatusCode.BadRequest, "invalid_type"), StringComparison.Ordinal);

        // Server API keys publish Herald's own types.
        using var key = server.CreateClient();
        await key.PostAsync("chat:reserved", """{"ref":1,"replies":1,"last":{"offset":1,"time":"2026-01-01T00:00:00Z"}}""", "herald.thread");
    }

    [Theory]
    [InlineData("herald.edit", """[1]""", "JSON object")]
    [InlineData("herald.edit", """{"data":1}""", "'ref' is required")]
    [InlineData("herald.edit", """{"ref":1}""", "'data' is required")]
    [InlineData("herald.edit", """{"ref":0,"data":1}""", "at least 1")]
    [InlineData("herald.edit", """{"ref":"1","data":1}""", "integer")]
    [InlineData("herald.edit", """{"ref":1.5,"data":1}""", "integer")]
    [InlineData("herald.edit", """{"ref":1,"data":1,"extra":2}""", "Unknown member 'extra'")]
    [InlineData("herald.edit", """{"ref":1,"ref":1,"data":1}""", "given twice")]
    [InlineData("herald.delete", """{"ref":1,"data":1}""", "does not belong")]
    [InlineData("herald.react", """{"ref":1}""", "'key' is required")]
    [InlineData("herald.react", """{"ref":1,"key":""}""", "non-empty string")]
    [InlineData("herald.unreact", """{"ref":1,"key":7}""", "non-empty string")]
    [InlineData("herald.delete", """{"ref":99}""", "past the newest offset")]
    public async Task Action_data_of_the_wrong_shape_is_400_invalid_action(string type, string data, string says)
    {
        using var alice = As("alice");
        var channel = "chat:shape-" + Guid.NewGuid().ToString("N")[..8];
        await alice.PostAsync(channel, """{"t":"hi"}""");
        Assert.Contains(says, await alice.RefusedAsync(channel, data, type, HttpStatusCode.BadRequest, "invalid_action"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reaction_key_is_at_most_MaxReactionKeyBytes_in_UTF8()
    {
        using var alice = As("alice");
        await alice.PostAsync("chat:keys", "1");
        await alice.PostAsync("keys:a", "1");
        await alice.ReactAsync("chat:keys", 1, new string('k', 64));
        await alice.RefusedAsync("chat:keys", $$"""{"ref":1,"key":"{{new string('k', 65)}}"}""", "herald.react", HttpStatusCode.BadRequest, "invalid_action");

        // Configured: 8 bytes, and 'é' is two of them.
        await alice.ReactAsync("keys:a", 1, "éééé");
        Assert.Contains("8 bytes", await alice.RefusedAsync("keys:a", """{"ref":1,"key":"éééék"}""", "herald.react", HttpStatusCode.BadRequest, "invalid_action"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_action_about_a_message_gone_from_history_or_about_an_action_is_404_message_not_found()
    {
        using var alice = As("alice");
        await alice.PostAsync("short:a", "1");
        await alice.PostAsync("short:a", "2");
        var reaction = await alice.ReactAsync("short:a", 2, "+1"); // Offset 1 leaves history (HistorySize 2).

        Assert.Contains("left the channel's history", await alice.RefusedAsync("short:a", """{"ref":1,"key":"+1"}""", "herald.react", HttpStatusCode.NotFound, "message_not_found"), StringComparison.Ordinal);
        Assert.Contains("not a message", await alice.RefusedAsync("short:a", $$"""{"ref":{{reaction}},"data":1}""", "herald.edit", HttpStatusCode.NotFound, "message_not_found"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_Own_only_the_author_and_server_keys_edit_and_delete_under_Any_every_publisher()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        using var key = server.CreateClient();
        var message = await alice.PostAsync("chat:own", """{"t":"mine"}""");

        await bob.RefusedAsync("chat:own", $$$"""{"ref":{{{message}}},"data":{"t":"bob's"}}""", "herald.edit", HttpStatusCode.Forbidden, "not_author");
        await bob.RefusedAsync("chat:own", $$"""{"ref":{{message}}}""", "herald.delete", HttpStatusCode.Forbidden, "not_author");
        await alice.EditAsync("chat:own", message, """{"t":"mine!"}""");
        await key.EditAsync("chat:own", message, """{"t":"moderated"}""");

        // A server message has no author among users.
        var notice = await key.PostAsync("chat:own", """{"t":"notice"}""");
        await alice.RefusedAsync("chat:own", $$"""{"ref":{{notice}}}""", "herald.delete", HttpStatusCode.Forbidden, "not_author");

        var page = await alice.PostAsync("wiki:page", """{"t":"draft"}""");
        await bob.EditAsync("wiki:page", page, """{"t":"bob's draft"}""");
        await bob.DeleteAsync("wiki:page", page);
    }

    [Fact]
    public async Task Edits_Off_Reactions_Off_and_Threads_false_are_403_with_their_codes()
    {
        using var alice = As("alice");
        using var key = server.CreateClient();
        var message = await alice.PostAsync("frozen:a", "1");
        await alice.RefusedAsync("frozen:a", $$"""{"ref":{{message}},"data":2}""", "herald.edit", HttpStatusCode.Forbidden, "edits_disabled");
        await alice.RefusedAsync("frozen:a", $$"""{"ref":{{message}}}""", "herald.delete", HttpStatusCode.Forbidden, "edits_disabled");
        await alice.RefusedAsync("frozen:a", $$"""{"ref":{{message}},"key":"+1"}""", "herald.react", HttpStatusCode.Forbidden, "reactions_disabled");
        await alice.RefusedAsync("frozen:a=1", "1", null, HttpStatusCode.Forbidden, "threads_disabled");

        // Moderation: a server key still deletes.
        await key.DeleteAsync("frozen:a", message);
    }

    [Fact]
    public async Task A_reaction_needs_a_user()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var key = server.CreateClient();
        await anonymous.PostAsync("open:a", "1");
        await anonymous.RefusedAsync("open:a", """{"ref":1,"key":"+1"}""", "herald.react", HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("user token", await key.RefusedAsync("open:a", """{"ref":1,"key":"+1"}""", "herald.react", HttpStatusCode.BadRequest, "invalid_action"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_WebSocket_publish_op_answers_the_same_codes()
    {
        using var alice = As("alice");
        var message = await alice.PostAsync("chat:ws", """{"t":"mine"}""");
        await using var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));

        async Task Expect(string request, string code)
        {
            var reply = await bob.RequestAsync(request);
            Assert.Equal("error", reply.GetProperty("type").GetString());
            Assert.Equal(code, reply.GetProperty("code").GetString());
        }

        await Expect($$$"""{"id":1,"op":"publish","channel":"chat:ws","type":"herald.edit","data":{"ref":{{{message}}},"data":2}}""", "not_author");
        await Expect("""{"id":2,"op":"publish","channel":"chat:ws","type":"herald.thread","data":{"ref":1}}""", "invalid_type");
        await Expect("""{"id":3,"op":"publish","channel":"chat:ws","type":"herald.react","data":{"ref":1}}""", "invalid_action");
        await Expect("""{"id":4,"op":"publish","channel":"chat:ws=9","data":1}""", "message_not_found");
        await Expect("""{"id":5,"op":"publish","channel":"frozen:ws","type":"herald.react","data":{"ref":1,"key":"+1"}}""", "reactions_disabled");
        await Expect("""{"id":6,"op":"history","channel":"chat:ws","view":"folded"}""", "bad_request");

        var reacted = await bob.RequestAsync($$$"""{"id":7,"op":"publish","channel":"chat:ws","type":"herald.react","data":{"ref":{{{message}}},"key":"+1"}}""");
        Assert.Equal("published", reacted.GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_inbound_webhook_to_a_thread_without_its_root_is_404_message_not_found()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/webhooks/in/ci")
        {
            Content = new StringContent("""{"room":"builds=5","text":"done"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", InboundKey);
        using var response = await anonymous.SendAsync(request).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("message_not_found", (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }
}
