using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports.LongPoll;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests;

/// <summary>
/// The rules of publishing, held once by the publish service, answered by every entry point (HTTP
/// publish, the WebSocket op, inbound webhooks) in its own way: text that is not valid Unicode is
/// refused with nothing stored, and an idempotency key reused for another request is an error.
/// </summary>
public sealed class PublishServiceTests : IAsyncLifetime
{
    private const string GitHubSecret = "publish-service-secret";

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Namespaces:chat:Publish"] = "Anyone",
        ["Herald:Webhooks:Sources:gh:Scheme"] = "GitHub",
        ["Herald:Webhooks:Sources:gh:Secrets:0"] = GitHubSecret,
        ["Herald:Webhooks:Sources:gh:Channel"] = "notify:{repo}",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    public static TheoryData<string> NotUnicode => new()
    {
        """{"data":"\ud800"}""",
        """{"data":"x\udc00y"}""",
        """{"data":{"\ud800":1}}""",
        """{"data":["ok","\uDBFF\n"]}""",
        """{"data":1,"type":"\ud800"}""",
        """{"\ud800":1}""",
    };

    [Theory]
    [MemberData(nameof(NotUnicode))]
    public async Task Http_publish_refuses_a_lone_surrogate_anywhere_with_400_and_stores_nothing(string body)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync("news:unicode", body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_body");
        Assert.Empty(await client.ReadAllAsync("news:unicode"));
    }

    [Fact]
    public async Task Http_publish_refuses_invalid_utf8_inside_a_string_with_400_and_stores_nothing()
    {
        using var client = server.CreateClient();
        byte[] body = [.. "{\"data\":\"a"u8, 0xC3, 0x28, .. "b\"}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync("v1/channels/news:utf8/messages", content).WaitAsync(HttpJson.Timeout);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_body");
        Assert.Empty(await client.ReadAllAsync("news:utf8"));
    }

    [Fact]
    public async Task The_websocket_publish_op_refuses_text_that_is_not_unicode_and_the_connection_keeps_working()
    {
        await using var ws = await WsClient.ConnectAsync(server);

        var surrogate = await ws.RequestAsync("""{"id":1,"op":"publish","channel":"chat:unicode","data":"\ud800"}""");
        var invalidType = await ws.RequestAsync("""{"id":2,"op":"publish","channel":"chat:unicode","data":1,"type":"\udfff"}""");
        await ws.SendAsync([.. "{\"id\":3,\"op\":\"publish\",\"channel\":\"chat:unicode\",\"data\":\"\xC3\x28\"}"u8], System.Net.WebSockets.WebSocketMessageType.Text);
        var ok = await ws.RequestAsync("""{"id":4,"op":"publish","channel":"chat:unicode","data":"\ud83d\ude00"}""");

        Assert.Equal(("error", "bad_request"), (surrogate.GetProperty("type").GetString(), surrogate.GetProperty("code").GetString()));
        Assert.Equal("bad_request", invalidType.GetProperty("code").GetString());
        Assert.Equal("published", ok.GetProperty("type").GetString());
        Assert.Equal(1, ok.GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task A_validly_signed_webhook_whose_body_is_not_unicode_is_refused_with_400_and_stores_nothing()
    {
        using var response = await SendGitHubAsync("""{"repo":"octo","text":"\ud800"}""", "delivery-1");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_body");
        using var client = server.CreateClient();
        Assert.Empty(await client.ReadAllAsync("notify:octo"));
    }

    [Fact]
    public async Task An_idempotency_key_reused_for_another_body_is_422_and_a_true_retry_is_replayed()
    {
        using var client = server.CreateClient();
        using var first = await client.PublishAsync("news:keys", """{"data":{"n":1}}""", idempotencyKey: "key-1");
        using var retry = await client.PublishAsync("news:keys", """{ "data" : { "n" : 1 } }""", idempotencyKey: "key-1");
        using var reused = await client.PublishAsync("news:keys", """{"data":{"n":2}}""", idempotencyKey: "key-1");
        using var otherType = await client.PublishAsync("news:keys", """{"data":{"n":1},"type":"edit"}""", idempotencyKey: "key-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        await AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await AssertProblemAsync(otherType, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        var stored = Assert.Single(await client.ReadAllAsync("news:keys"));
        Assert.Equal(1, stored.GetProperty("data").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task The_websocket_publish_op_answers_a_reused_key_with_idempotency_key_reused()
    {
        await using var ws = await WsClient.ConnectAsync(server);
        var first = await ws.RequestAsync("""{"id":1,"op":"publish","channel":"chat:keys","data":"a","idempotencyKey":"k"}""");
        var retry = await ws.RequestAsync("""{"id":2,"op":"publish","channel":"chat:keys","data":"a","idempotencyKey":"k"}""");
        var reused = await ws.RequestAsync("""{"id":3,"op":"publish","channel":"chat:keys","data":"b","idempotencyKey":"k"}""");

        Assert.Equal("published", first.GetProperty("type").GetString());
        Assert.True(retry.GetProperty("duplicate").GetBoolean());
        Assert.Equal(("error", "idempotency_key_reused"), (reused.GetProperty("type").GetString(), reused.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task A_webhook_delivery_id_seen_before_with_another_body_is_422()
    {
        using var first = await SendGitHubAsync("""{"repo":"octo","n":1}""", "delivery-2");
        using var again = await SendGitHubAsync("""{"repo":"octo","n":1}""", "delivery-2");
        using var forged = await SendGitHubAsync("""{"repo":"octo","n":2}""", "delivery-2");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await AssertProblemAsync(forged, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
    }

    [Theory]
    [InlineData("W/{0}")]
    [InlineData("\"nope\", {0}")]
    [InlineData("W/\"nope\",W/{0}")]
    public async Task History_and_short_polls_answer_304_to_weak_validators_and_lists(string template)
    {
        using var client = server.CreateClient();
        await client.PublishDataAsync("news:etag", "1");
        using var history = await client.GetAsync("v1/channels/news:etag/messages").WaitAsync(HttpJson.Timeout);
        var historyTag = history.Headers.ETag!.ToString();
        var poll = await client.PollAsync(["news:etag"], wait: 0);
        var pollTag = poll.Response.Headers.ETag!.ToString();

        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/channels/news:etag/messages");
        request.Headers.TryAddWithoutValidation("If-None-Match", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, historyTag));
        using var notModified = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        var pollAgain = await client.PollAsync(["news:etag"], wait: 0, ifNoneMatch: string.Format(System.Globalization.CultureInfo.InvariantCulture, template, pollTag));

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, pollAgain.Status);
    }

    private async Task<HttpResponseMessage> SendGitHubAsync(string body, string deliveryId)
    {
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(GitHubSecret), Encoding.UTF8.GetBytes(body)));
        using var client = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/webhooks/in/gh") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", "sha256=" + signature);
        request.Headers.TryAddWithoutValidation("X-GitHub-Delivery", deliveryId);
        request.Headers.TryAddWithoutValidation("X-GitHub-Event", "push");
        return await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }
}
