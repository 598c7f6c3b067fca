using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// The catalogue of bad input, one table per surface: every row is answered with its documented
/// status (or WebSocket reply / close code) and <c>code</c>, and nothing is stored. Rows come from
/// what clients and libraries nobody on the team wrote actually sent (issue 11).
/// </summary>
public sealed partial class BadInputCatalogueTests : IAsyncLifetime
{
    private const string WebhookKey = "catalogue-inbound-key-0123456789";
    private TestServer server = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:DefaultPolicy:Publish"] = "Authenticated",
            ["Herald:Namespaces:small:MaxMessageBytes"] = "64",
            ["Herald:Transports:MaxWebSocketMessageBytes"] = "4096",
            ["Herald:Webhooks:Sources:hook:Scheme"] = "ApiKey",
            ["Herald:Webhooks:Sources:hook:Secrets:0"] = WebhookKey,
            ["Herald:Webhooks:Sources:hook:Channel"] = "hooks:{room}",
            ["Herald:Webhooks:Sources:hook:MaxBodyBytes"] = "1024",
            ["Herald:Webhooks:Sources:gh:Scheme"] = "GitHub",
            ["Herald:Webhooks:Sources:gh:Secrets:0"] = "catalogue-github-secret",
            ["Herald:Webhooks:Sources:gh:Channel"] = "hooks:gh",
        });
        client = server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    /// <summary>One HTTP row: the request and its documented answer.</summary>
    public sealed record Row(string Method, string Path, byte[]? Body, int Status, string Code, string? ContentType = "application/json", string? Auth = TestServer.ApiKey, string[]? Headers = null)
    {
        public override string ToString() => $"{Method} {Path} {(Body is null ? string.Empty : Encoding.UTF8.GetString(Body)[..Math.Min(Body.Length, 40)])} → {Status} {Code}";
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Raw bytes: for invalid UTF-8 and lone surrogates, which a .NET string cannot carry to the wire.</summary>
    private static byte[] Bytes(string before, byte[] middle, string after) => [.. Encoding.ASCII.GetBytes(before), .. middle, .. Encoding.ASCII.GetBytes(after)];

    private static TheoryData<Row> Table(params Row[] rows)
    {
        var data = new TheoryData<Row>();
        foreach (var row in rows)
            data.Add(row);
        return data;
    }

    private const string Publish = "/v1/channels/news:bad/messages";

    public static TheoryData<Row> PublishRows => Table(
        new("POST", Publish, Utf8("""{"data":"\ud800"}"""), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":{"\udc00":1}}"""), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":1,"type":"\ud800x"}"""), 400, "invalid_body"),
        new("POST", Publish, Bytes("{\"data\":\"", [0xFF, 0xFE], "\"}"), 400, "invalid_body"),
        new("POST", Publish, Bytes("{\"data\":\"", [0xC3], "\"}"), 400, "invalid_body"),
        new("POST", Publish, Bytes("{\"data\":\"", [0xED, 0xA0, 0x80], "\"}"), 400, "invalid_body"),
        new("POST", Publish, Bytes("{\"data\":1,\"type\":\"", [0xC0, 0xAF], "\"}"), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":1,"type":""}"""), 400, "invalid_body"),
        new("POST", Publish, Utf8("{\"data\":1,\"type\":\"" + new string('t', 65) + "\"}"), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":NaN}"""), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":1}x"""), 400, "invalid_body"),
        new("POST", Publish, Utf8("null"), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":'single'}"""), 400, "invalid_body"),
        new("POST", Publish, Utf8(new string('[', 200) + new string(']', 200)), 400, "invalid_body"),
        new("POST", Publish, Utf8("{\"data\":" + new string('[', 200) + new string(']', 200) + "}"), 400, "invalid_body"),
        new("POST", Publish, Utf8("""{"data":1}"""), 415, "unsupported_media_type", ContentType: "text/plain"),
        new("POST", Publish, Utf8("""{"data":1}"""), 415, "unsupported_media_type", ContentType: null),
        new("POST", Publish, Utf8("""{"data":1}"""), 400, "invalid_header", Headers: ["Idempotency-Key", new string('k', 129)]),
        new("POST", Publish, Utf8("""{"data":1}"""), 400, "invalid_header", Headers: ["Idempotency-Key", "a b"]),
        new("POST", "/v1/channels/news:a%20b/messages", Utf8("""{"data":1}"""), 400, "invalid_channel"),
        new("POST", "/v1/channels/News:bad/messages", Utf8("""{"data":1}"""), 400, "invalid_channel"),
        new("POST", "/v1/channels/small:bad/messages", Utf8("{\"data\":\"" + new string('x', 60) + "\"}"), 413, "message_too_large"),
        new("PUT", Publish, Utf8("""{"data":1}"""), 405, "method_not_allowed"));

    public static TheoryData<Row> ReadRows => Table(
        new("GET", "/v1/channels/news:bad/messages?after=-1", null, 400, "invalid_query"),
        new("GET", "/v1/channels/news:bad/messages?after=99999999999999999999", null, 400, "invalid_query"),
        new("GET", "/v1/channels/news:bad/messages?after=1e3", null, 400, "invalid_query"),
        new("GET", "/v1/channels/news:bad/messages?limit=0", null, 400, "invalid_query"),
        new("GET", "/v1/channels/news:bad/messages?limit=1001", null, 400, "invalid_query"),
        new("GET", "/v1/channels/news:bad/messages?reverse=maybe", null, 400, "invalid_query"),
        new("GET", "/v1/channels/nonamespace/messages", null, 400, "invalid_channel"),
        new("GET", "/v1/poll?wait=0", null, 400, "invalid_query"),
        new("GET", "/v1/poll?channel=news:bad&wait=61", null, 400, "invalid_query"),
        new("GET", "/v1/poll?channel=news:bad&wait=-1", null, 400, "invalid_query"),
        new("GET", "/v1/poll?channel=news:bad&wait=soon", null, 400, "invalid_query"),
        new("GET", "/v1/poll?channel=bad&wait=0", null, 400, "invalid_channel"),
        new("GET", "/v1/poll?channel=news:bad&wait=0&cursor=%%%", null, 400, "invalid_cursor"),
        new("GET", "/v1/poll?channel=news:bad&wait=0&cursor=Ag", null, 400, "invalid_cursor"),
        new("GET", "/v1/poll?channel=news:bad&wait=0", null, 400, "invalid_cursor", Headers: ["Last-Event-ID", "not-a-cursor!"]),
        new("GET", "/v1/poll?wait=0&" + string.Join('&', Enumerable.Range(0, 65).Select(i => $"channel=news:c{i}")), null, 400, "invalid_query"),
        new("GET", "/v1/sse", null, 400, "invalid_query"),
        new("GET", "/v1/sse?channel=bad", null, 400, "invalid_channel"),
        new("GET", "/v1/sse?channel=news:bad&cursor=zzz", null, 400, "invalid_cursor"),
        new("GET", "/v1/sse?channel=news:bad", null, 400, "invalid_cursor", Headers: ["Last-Event-ID", "!!!"]),
        new("GET", "/v1/sse?channel=news:bad&lastEventId=" + new string('A', 4097), null, 400, "invalid_cursor"),
        new("GET", "/v1/stream", null, 400, "invalid_query"),
        new("GET", "/v1/stream?channel=news:bad&channel=bad", null, 400, "invalid_channel"),
        new("GET", "/v1/stream?channel=news:bad&cursor=AQAAAAAAAAAA", null, 400, "invalid_cursor"),
        new("GET", "/v1/channels/news:bad/messages?x=" + new string('q', 20_000), null, 414, "uri_too_long"));

    public static TheoryData<Row> AuthRows => Table(
        new("POST", Publish, Utf8("""{"data":1}"""), 401, "unauthorized", Auth: null),
        new("POST", Publish, Utf8("""{"data":1}"""), 403, "forbidden", Auth: "not-the-key"),
        new("POST", Publish, Utf8("""{"data":1}"""), 403, "forbidden", Auth: "a.b.c"),
        new("POST", Publish, Utf8("""{"data":1}"""), 403, "forbidden", Auth: Tokens.Mint("alice", TimeSpan.FromMinutes(-10))),
        new("POST", Publish, Utf8("""{"data":1}"""), 403, "forbidden", Auth: Tokens.Mint("alice")[..^4] + "AAAA"),
        new("POST", Publish, Utf8("""{"data":1}"""), 403, "forbidden", Auth: null, Headers: ["X-Api-Key", "wrong"]),
        new("POST", Publish + "?token=" + TestServer.ApiKey, Utf8("""{"data":1}"""), 403, "forbidden", Auth: null),
        new("POST", Publish, Utf8("""{"data":1}"""), 401, "unauthorized", Auth: null, Headers: ["Authorization", "Basic dXNlcjpwYXNz"]),
        new("GET", "/v1/webhooks/subscriptions", null, 403, "forbidden", Auth: Tokens.Mint("alice")),
        new("GET", "/v1/stats", null, 401, "unauthorized", Auth: null));

    public static TheoryData<Row> InboundWebhookRows => Table(
        new("POST", "/v1/webhooks/in/nope", Utf8("""{"room":"a"}"""), 404, "unknown_source", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"room":"a"}"""), 401, "invalid_signature", Auth: "wrong-key"),
        new("POST", "/v1/webhooks/in/gh", Utf8("""{"room":"a"}"""), 401, "invalid_signature", Auth: null, Headers: ["X-Hub-Signature-256", "sha256=00"]),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"room":"a","x":"\ud800"}"""), 400, "invalid_body", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"room":"a","\udfff":1}"""), 400, "invalid_body", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Bytes("{\"room\":\"a\",\"x\":\"", [0xFF], "\"}"), 400, "invalid_body", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"room":"a"""), 400, "invalid_body", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"room":{"nested":1}}"""), 400, "invalid_channel", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("""{"other":"a"}"""), 400, "invalid_channel", Auth: WebhookKey),
        new("POST", "/v1/webhooks/in/hook", Utf8("{\"room\":\"a\",\"pad\":\"" + new string('x', 1100) + "\"}"), 413, "message_too_large", Auth: WebhookKey));

    private const string Subscriptions = "/v1/webhooks/subscriptions";

    public static TheoryData<Row> SubscriptionRows => Table(
        new("POST", Subscriptions, Utf8("""{"channels":["news:*"]}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h"}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"colour":"red"}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"ftp://example.com/h","channels":["news:*"]}"""), 400, "invalid_url"),
        new("POST", Subscriptions, Utf8("""{"url":"https://u:p@example.com/h","channels":["news:*"]}"""), 400, "invalid_url"),
        new("POST", Subscriptions, Utf8("""{"url":"http://127.0.0.1:9/h","channels":["news:*"]}"""), 400, "target_not_allowed"),
        new("POST", Subscriptions, Utf8("""{"url":"http://[::1]/h","channels":["news:*"]}"""), 400, "target_not_allowed"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":[]}"""), 400, "invalid_channel_pattern"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["NOPE"]}"""), 400, "invalid_channel_pattern"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"events":[]}"""), 400, "invalid_event_type"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"events":["presence.JOIN"]}"""), 400, "invalid_event_type"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"events":["\ud800"]}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"secret":"plain"}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"],"description":"\ud800"}"""), 400, "invalid_body"),
        new("POST", Subscriptions, Utf8("""{"url":"https://example.com/h","channels":["news:*"]}"""), 415, "unsupported_media_type", ContentType: "text/plain"),
        new("GET", Subscriptions + "/sub_nope", null, 404, "subscription_not_found"),
        new("POST", "/v1/webhooks/deliveries/999999/replay", null, 404, "delivery_not_found"));

    [Theory]
    [MemberData(nameof(PublishRows))]
    public async Task Http_publish(Row row)
    {
        await AssertRowAsync(row);
        Assert.Equal(0, await TopAsync("news:bad") + await TopAsync("small:bad"));
    }

    [Theory]
    [MemberData(nameof(ReadRows))]
    public async Task History_poll_sse_and_stream_queries(Row row) => await AssertRowAsync(row);

    [Theory]
    [MemberData(nameof(AuthRows))]
    public async Task Auth_headers(Row row)
    {
        await AssertRowAsync(row);
        Assert.Equal(0, await TopAsync("news:bad"));
    }

    [Theory]
    [MemberData(nameof(InboundWebhookRows))]
    public async Task Inbound_webhooks(Row row)
    {
        await AssertRowAsync(row);
        Assert.Equal(0, await TopAsync("hooks:a") + await TopAsync("hooks:gh"));
    }

    [Theory]
    [MemberData(nameof(SubscriptionRows))]
    public async Task Webhook_subscription_api(Row row)
    {
        await AssertRowAsync(row);
        using var list = await client.GetAsync(new Uri(Subscriptions[1..], UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Empty((await list.ReadJsonAsync()).GetProperty("subscriptions").EnumerateArray());
    }

    [Fact]
    public async Task A_nul_in_the_path_is_refused_by_Kestrel_with_a_bare_400()
    {
        // Kestrel decodes the path and refuses %00 before any middleware runs: no problem document
        // can be given (docs/protocol.md, Errors). The connection is closed and nothing is stored.
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
        await RawHttp.SendAsync(socket, $"POST /v1/channels/news:bad%00/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TestServer.ApiKey}\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{{\"data\":1}}", timeout.Token);
        var answer = await RawHttp.ReadUntilClosedAsync(socket, RawHttp.Timeout);
        Assert.NotNull(answer);
        Assert.Equal(400, RawHttp.Parse(answer).Status);
        Assert.Equal(0, await TopAsync("news:bad"));
    }

    private async Task AssertRowAsync(Row row)
    {
        using var request = new HttpRequestMessage(new HttpMethod(row.Method), new Uri(row.Path[1..], UriKind.Relative));
        if (row.Body is not null)
        {
            request.Content = new ByteArrayContent(row.Body);
            if (row.ContentType is not null)
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(row.ContentType);
        }

        if (row.Auth is not null)
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + row.Auth);
        for (var i = 0; row.Headers is not null && i < row.Headers.Length; i += 2)
        {
            request.Headers.Remove(row.Headers[i]);
            request.Headers.TryAddWithoutValidation(row.Headers[i], row.Headers[i + 1]);
        }

        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.SendAsync(request).WaitAsync(HttpJson.Timeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(row.Status == (int)response.StatusCode, $"{row}: got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(row.Code, problem.GetProperty("code").GetString());
        Assert.Equal(row.Status, problem.GetProperty("status").GetInt32());
    }

    private async Task<long> TopAsync(string channel) => (await client.HistoryAsync(channel)).GetProperty("top").GetInt64();
}
