using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>Every bad input gets a documented answer, and the server goes on serving everyone else.</summary>
public sealed class WebSocketBadInputTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Publish"] = "Anyone",
        ["Herald:Namespaces:chat:MaxMessageBytes"] = "64",
        ["Herald:Transports:MaxWebSocketMessageBytes"] = "1024",
        ["Herald:Transports:AllowedOrigins:0"] = "https://app.example.com",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Bad_JSON_is_answered_bad_request_and_the_connection_keeps_working()
    {
        await using var client = await WsClient.ConnectAsync(server);

        var truncated = await client.RequestAsync("""{"id":1,"op":""");
        WebSocketTransportTests.AssertError(truncated, 1, "bad_request");

        var garbage = await client.RequestAsync("this is not json");
        Assert.Equal("error", garbage.GetProperty("type").GetString());
        Assert.Equal("bad_request", garbage.GetProperty("code").GetString());
        Assert.False(garbage.TryGetProperty("id", out _));

        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":2,"op":"ping","extra":1}"""), 2, "bad_request");
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":3,"channel":"chat:a"}"""), 3, "bad_request");
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":4,"op":"subscribe","channel":"NOPE"}"""), 4, "invalid_channel");
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":5,"op":"subscribe","channel":"chat:a","since":{"epoch":"x"}}"""), 5, "bad_request");
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":6,"op":"publish","channel":"chat:a"}"""), 6, "bad_request");
        WebSocketTransportTests.AssertError(
            await client.RequestAsync($$"""{"id":7,"op":"publish","channel":"chat:a","data":"{{new string('x', 100)}}"}"""), 7, "message_too_large");
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":8,"op":"history","channel":"chat:a","limit":0}"""), 8, "bad_request");

        var pong = await client.RequestAsync("""{"id":9,"op":"ping"}""");
        Assert.Equal("pong", pong.GetProperty("type").GetString());
        Assert.Equal(9, pong.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task An_unknown_op_is_answered_unknown_op()
    {
        await using var client = await WsClient.ConnectAsync(server);
        WebSocketTransportTests.AssertError(await client.RequestAsync("""{"id":5,"op":"dance"}"""), 5, "unknown_op");
        Assert.Equal("pong", (await client.RequestAsync("""{"id":6,"op":"ping"}""")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_message_over_the_inbound_cap_closes_with_1009_and_others_are_unaffected()
    {
        await using var bystander = await WsClient.ConnectAsync(server);
        await using var client = await WsClient.ConnectAsync(server);

        // Exactly the cap is accepted (it is answered, as bad JSON), one byte more is not.
        var atCap = """{"id":1,"op":"ping","pad":""" + "\"" + new string('x', 1024 - 29) + "\"}";
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(atCap));
        WebSocketTransportTests.AssertError(await client.RequestAsync(atCap), 1, "bad_request");

        await client.SendAsync(new string(' ', 1025));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.WaitForCloseAsync());

        Assert.Equal("pong", (await bystander.RequestAsync("""{"id":1,"op":"ping"}""")).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_binary_message_closes_with_1003()
    {
        await using var client = await WsClient.ConnectAsync(server);
        await client.SendAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.WaitForCloseAsync());
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_disallowed_origin_is_refused_with_403_before_the_upgrade()
    {
        Assert.Equal(403, await WsClient.RefusedStatusAsync(server, origin: "https://evil.example.com"));
        await AssertProblemAsync(await UpgradeOverHttpAsync(origin: "https://evil.example.com"), HttpStatusCode.Forbidden, "origin_not_allowed");

        // Listed, same-origin, and no Origin at all (not a browser) are let in.
        await using (await WsClient.ConnectAsync(server, origin: "https://app.example.com"))
        {
        }

        await using (await WsClient.ConnectAsync(server, origin: server.BaseAddress.GetLeftPart(UriPartial.Authority)))
        {
        }

        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task An_expired_token_is_refused_with_403_before_the_upgrade()
    {
        var expired = Tokens.Mint("alice", TimeSpan.FromHours(-1));
        Assert.Equal(403, await WsClient.RefusedStatusAsync(server, "?token=" + expired));
        await AssertProblemAsync(await UpgradeOverHttpAsync(query: "?token=" + expired), HttpStatusCode.Forbidden, "forbidden");
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task A_plain_GET_is_answered_426()
    {
        using var http = server.CreateClient(apiKey: null);
        using var response = await http.GetAsync(new Uri("v1/ws", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        await AssertProblemAsync(response, HttpStatusCode.UpgradeRequired, "upgrade_required");
    }

    private async Task AssertServerStillServesAsync()
    {
        await using var other = await WsClient.ConnectAsync(server);
        Assert.Equal("subscribed", (await other.RequestAsync("""{"id":1,"op":"subscribe","channel":"chat:alive"}""")).GetProperty("type").GetString());
    }

    /// <summary>A WebSocket handshake sent with HttpClient, to read the refusal's body.</summary>
    private async Task<HttpResponseMessage> UpgradeOverHttpAsync(string query = "", string? origin = null)
    {
        using var http = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("v1/ws" + query, UriKind.Relative));
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        if (origin is not null)
            request.Headers.Add("Origin", origin);
        return await http.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.ReadJsonAsync();
            Assert.Equal(code, problem.GetProperty("code").GetString());
            Assert.Equal(JsonValueKind.String, problem.GetProperty("detail").ValueKind);
        }
    }
}
