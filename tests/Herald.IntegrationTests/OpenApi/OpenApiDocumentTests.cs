using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Herald.IntegrationTests.Actions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.IntegrationTests.OpenApi;

public sealed class OpenApiDocumentTests
{
    private const string InboundKey = "inbound-key-0123456789";

    /// <summary>What a generated client needs per operation beyond the route: every query parameter and header the endpoint reads.</summary>
    private static readonly Dictionary<string, string[]> ExpectedParameters = new(StringComparer.Ordinal)
    {
        ["Publish"] = ["channel", "Idempotency-Key"],
        ["History"] = ["channel", "after", "limit", "reverse", "view", "If-None-Match"],
        ["Poll"] = ["channel", "cursor", "lastEventId", "Last-Event-ID", "presence", "presenceSince", "typing", "wait", "If-None-Match"],
        ["ServerSentEvents"] = ["channel", "cursor", "lastEventId", "Last-Event-ID", "presence", "presenceSince", "typing"],
        ["Stream"] = ["channel", "cursor", "lastEventId", "Last-Event-ID", "presence", "presenceSince", "typing"],
        ["WebSocket"] = ["Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin"],
        ["ListWebhookDeliveries"] = ["subscription", "status", "channel", "before", "limit"],
        ["GetWebhookDelivery"] = ["id"],
        ["ReplayWebhookDelivery"] = ["id"],
        ["GetWebhookSubscription"] = ["id"],
        ["UpdateWebhookSubscription"] = ["id"],
        ["DeleteWebhookSubscription"] = ["id"],
        ["InboundWebhook"] = ["source"],
    };

    private static Dictionary<string, string?> Settings => new()
    {
        ["Herald:Webhooks:Outbound:AllowPrivateTargets"] = "true",
        ["Herald:Webhooks:Sources:ci:Scheme"] = "ApiKey",
        ["Herald:Webhooks:Sources:ci:Secrets:0"] = InboundKey,
        ["Herald:Webhooks:Sources:ci:Channel"] = "ci:{room}",
        ["Herald:Namespaces:open:Publish"] = "Anyone",
    };

    [Fact]
    public async Task Every_mapped_endpoint_is_documented_with_its_parameters_responses_and_security()
    {
        await using var server = await TestServer.StartAsync("memory", Settings);
        using var client = server.CreateClient();
        var contract = await OpenApiContract.FetchAsync(client);
        var operations = contract.Operations().ToList();

        // Every endpoint of the API, whichever way it is mapped, is in the document.
        var mapped = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Path: "/" + e.RoutePattern.RawText!.Trim('/'), Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]))
            .Where(e => e.Path.StartsWith("/v1/", StringComparison.Ordinal) || e.Path is "/healthz" or "/readyz" or "/metrics")
            // OpenAPI has no CONNECT operation: /v1/ws's GET documents its HTTP/2 form (RFC 8441 extended CONNECT) too.
            .SelectMany(e => e.Methods.Where(m => m != "CONNECT").Select(m => (Path: e.Path.Replace(":long", string.Empty, StringComparison.Ordinal), Method: m.ToLowerInvariant())))
            .ToList();
        Assert.True(mapped.Count >= 19, $"only {mapped.Count} endpoints mapped");
        Assert.Contains(("/v1/ws", "get"), mapped);
        Assert.Contains(("/metrics", "get"), mapped);
        foreach (var (path, method) in mapped)
            Assert.True(operations.Any(o => o.Path == path && o.Method == method), $"{method.ToUpperInvariant()} {path} is not in the OpenAPI document");

        var schemes = contract.Document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", (string?)schemes["bearer"]!["scheme"]);
        Assert.Equal("X-Api-Key", (string?)schemes["apiKey"]!["name"]);
        Assert.Equal("query", (string?)schemes["token"]!["in"]);

        foreach (var (path, method, operation) in operations)
        {
            var id = (string?)operation["operationId"];
            Assert.False(string.IsNullOrEmpty(id), $"{method} {path} has no operationId");
            var responses = operation["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2') || r.Key == "101");

            // Every error answer is the problem document, with its code.
            foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
                Assert.True(response!["content"]?["application/problem+json"] is not null, $"{id} {status} is not a problem document");

            var parameters = (operation["parameters"]?.AsArray() ?? []).Select(p => (string)p!["name"]!).ToList();
            if (ExpectedParameters.TryGetValue(id!, out var expected))
                Assert.True(expected.All(parameters.Contains), $"{id} documents [{string.Join(", ", parameters)}], expected [{string.Join(", ", expected)}]");

            var security = operation["security"]?.AsArray() ?? [];
            var schemeNames = security.SelectMany(r => r!.AsObject().Select(s => s.Key)).ToHashSet();
            var anonymous = security.Any(r => r!.AsObject().Count == 0);
            if (path.StartsWith("/v1/webhooks/subscriptions", StringComparison.Ordinal) || path.StartsWith("/v1/webhooks/deliveries", StringComparison.Ordinal) || path.StartsWith("/v1/users/", StringComparison.Ordinal))
                Assert.True(!anonymous && schemeNames.SetEquals(["bearer", "apiKey"]), $"{id}: server API keys only");
            else if (path is "/healthz" or "/readyz" || path.StartsWith("/v1/webhooks/in/", StringComparison.Ordinal))
                Assert.Empty(security);
            else
                Assert.True(anonymous && schemeNames.SetEquals(["bearer", "apiKey", "token"]), $"{id}: anonymous or any credentials, as the policy says");
        }

        var publish = contract.Document["components"]!["schemas"]!["PublishBody"]!;
        Assert.Equal(["data"], publish["required"]!.AsArray().Select(r => (string)r!));
        Assert.Equal("text/event-stream", contract.Operation("ServerSentEvents")["responses"]!["200"]!["content"]!.AsObject().Single().Key);
        Assert.Equal("application/x-ndjson", contract.Operation("Stream")["responses"]!["200"]!["content"]!.AsObject().Single().Key);
        Assert.NotNull(contract.Operation("InboundWebhook")["requestBody"]!["content"]!["application/json"]);
        Assert.NotNull(contract.Operation("WebSocket")["responses"]!["101"]);
        Assert.NotNull(contract.Operation("WebSocket")["responses"]!["426"]);
        Assert.Contains("code", contract.Document["components"]!["schemas"]!["ProblemDetails"]!["required"]!.AsArray().Select(r => (string)r!));
    }

    [Fact]
    public async Task Real_answers_of_every_kind_match_the_documented_status_media_type_and_schema()
    {
        await using var server = await TestServer.StartAsync("sqlite", Settings);
        using var client = server.CreateClient();
        using var anonymous = server.CreateClient(apiKey: null);
        using var wrongKey = server.CreateClient("not-the-key");
        var contract = await OpenApiContract.FetchAsync(client);

        async Task<JsonElementOrNull> Check(string operationId, Task<HttpResponseMessage> request, HttpStatusCode expected)
        {
            using var response = await request.WaitAsync(HttpJson.Timeout);
            Assert.Equal(expected, response.StatusCode);
            return new(await contract.AssertConformsAsync(operationId, response));
        }

        // Publish: created, replayed, refused, and a publication without a type (it is optional).
        await Check("Publish", client.PublishAsync("news:a", """{"data":{"text":"hi"},"type":"greeting"}""", idempotencyKey: "k1"), HttpStatusCode.Created);
        await Check("Publish", client.PublishAsync("news:a", """{"data":{"text":"hi"},"type":"greeting"}""", idempotencyKey: "k1"), HttpStatusCode.OK);
        await Check("Publish", client.PublishAsync("news:a", """{"data":[1,2,null]}"""), HttpStatusCode.Created);
        await Check("Publish", client.PublishAsync("news:a", """{"data":1}""", contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType);
        await Check("Publish", client.PublishAsync("bad name", """{"data":1}"""), HttpStatusCode.BadRequest);
        await Check("Publish", client.PublishAsync("news:a", """{"data":1,"extra":2}"""), HttpStatusCode.BadRequest);
        await Check("Publish", anonymous.PublishAsync("news:a", """{"data":1}"""), HttpStatusCode.Unauthorized);
        await Check("Publish", wrongKey.PublishAsync("news:a", """{"data":1}"""), HttpStatusCode.Forbidden);

        // History and short polling.
        var history = await Check("History", client.GetAsync(new Uri("v1/channels/news:a/messages?after=0&limit=10", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(2, history.Value.GetProperty("publications").GetArrayLength());
        await Check("History", client.GetAsync(new Uri("v1/channels/news:never/messages", UriKind.Relative)), HttpStatusCode.OK);
        await Check("History", client.GetAsync(new Uri("v1/channels/news:a/messages?limit=0", UriKind.Relative)), HttpStatusCode.BadRequest);

        // Actions on messages and the latest view, whose messages carry the fold's members.
        await Check("Publish", client.PublishAsync("news:acts", """{"data":{"text":"hi"}}"""), HttpStatusCode.Created);
        await Check("Publish", client.PublishAsync("news:acts", """{"data":{"ref":1,"data":{"text":"hi!"}},"type":"herald.edit"}"""), HttpStatusCode.Created);
        await Check("Publish", client.PublishAsync("news:acts", """{"data":{"ref":99},"type":"herald.delete"}"""), HttpStatusCode.BadRequest);
        await Check("Publish", client.PublishAsync("news:acts=1", """{"data":"reply"}"""), HttpStatusCode.Created);
        await Check("Publish", client.PublishAsync("news:acts=9", """{"data":"reply"}"""), HttpStatusCode.NotFound);
        await anonymous.PostAsync("open:a", "1");
        await Check("Publish", anonymous.PublishAsync("open:a", """{"data":{"ref":1,"key":"+1"},"type":"herald.react"}"""), HttpStatusCode.Unauthorized);
        await client.WaitForHistoryAsync("news:acts", ps => ps.Count == 3, "the thread's summary");
        var latest = await Check("History", client.GetAsync(new Uri("v1/channels/news:acts/messages?view=latest", UriKind.Relative)), HttpStatusCode.OK);
        Assert.Equal(2, latest.Value.GetProperty("publications")[0].GetProperty("version").GetInt32());
        Assert.Equal(1, latest.Value.GetProperty("publications")[0].GetProperty("thread").GetProperty("replies").GetInt64());
        await Check("History", client.GetAsync(new Uri("v1/channels/news:a/messages?view=nope", UriKind.Relative)), HttpStatusCode.BadRequest);
        var poll = await Check("Poll", client.GetAsync(new Uri("v1/poll?channel=news:a&channel=news:b&wait=0", UriKind.Relative)), HttpStatusCode.OK);
        var cursor = poll.Value.GetProperty("cursor").GetString()!;

        // A long poll answered by a publication, with it in the answer.
        var held = client.GetAsync(new Uri($"v1/poll?channel=news:a&channel=news:b&wait=30&cursor={cursor}", UriKind.Relative));
        await server.WaitUntilHeldPollAsync();
        await Check("Publish", client.PublishAsync("news:b", """{"data":"x"}"""), HttpStatusCode.Created);
        var answered = await Check("Poll", held, HttpStatusCode.OK);
        Assert.Equal(1, answered.Value.GetProperty("publications").GetArrayLength());
        await Check("Poll", client.GetAsync(new Uri("v1/poll?channel=news:a&cursor=garbage", UriKind.Relative)), HttpStatusCode.BadRequest);

        // Health, stats, metrics.
        await Check("Health", client.GetAsync(new Uri("healthz", UriKind.Relative)), HttpStatusCode.OK);
        await Check("Ready", client.GetAsync(new Uri("readyz", UriKind.Relative)), HttpStatusCode.OK);
        await Check("Stats", client.GetAsync(new Uri("v1/stats", UriKind.Relative)), HttpStatusCode.OK);
        await Check("Stats", anonymous.GetAsync(new Uri("v1/stats", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await Check("Metrics", anonymous.GetAsync(new Uri("metrics", UriKind.Relative)), HttpStatusCode.Unauthorized);
        using (var metrics = await client.GetAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        }

        // The per-user server API.
        await Check("DisconnectUser", client.PostAsync(new Uri("v1/users/alice/disconnect", UriKind.Relative), null), HttpStatusCode.Accepted);
        await Check("DisconnectUser", client.PostAsync(new Uri("v1/users/alice/disconnect", UriKind.Relative), Json("""{"reconnect":1}""")), HttpStatusCode.BadRequest);
        await Check("DisconnectUser", anonymous.PostAsync(new Uri("v1/users/alice/disconnect", UriKind.Relative), null), HttpStatusCode.Unauthorized);
        await Check("UnsubscribeUser", client.PostAsync(new Uri("v1/users/alice/unsubscribe", UriKind.Relative), Json("""{"channel":"news:a"}""")), HttpStatusCode.Accepted);
        await Check("UnsubscribeUser", client.PostAsync(new Uri("v1/users/alice/unsubscribe", UriKind.Relative), new StringContent("news:a")), HttpStatusCode.UnsupportedMediaType);
        await Check("UnsubscribeUser", wrongKey.PostAsync(new Uri("v1/users/alice/unsubscribe", UriKind.Relative), Json("""{"channel":"news:a"}""")), HttpStatusCode.Forbidden);

        // The WebSocket endpoint refuses a plain GET with 426.
        await Check("WebSocket", client.GetAsync(new Uri("v1/ws", UriKind.Relative)), HttpStatusCode.UpgradeRequired);

        // Inbound webhooks: published, duplicate, refused.
        await Check("InboundWebhook", InboundAsync(anonymous, InboundKey, "d-1"), HttpStatusCode.Accepted);
        await Check("InboundWebhook", InboundAsync(anonymous, InboundKey, "d-1"), HttpStatusCode.OK);
        await Check("InboundWebhook", InboundAsync(anonymous, "wrong", "d-2"), HttpStatusCode.Unauthorized);

        // The webhook API, each answer.
        var created = await Check("CreateWebhookSubscription", client.PostAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative), Json("""{"url":"http://127.0.0.1:1/hook","channels":["news:*"],"description":"docs"}""")), HttpStatusCode.Created);
        var id = created.Value.GetProperty("id").GetString()!;
        await Check("CreateWebhookSubscription", client.PostAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative), Json("""{"url":"ftp://x","channels":["news:*"]}""")), HttpStatusCode.BadRequest);
        await Check("ListWebhookSubscriptions", client.GetAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative)), HttpStatusCode.OK);
        await Check("ListWebhookSubscriptions", anonymous.GetAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await Check("GetWebhookSubscription", client.GetAsync(new Uri($"v1/webhooks/subscriptions/{id}", UriKind.Relative)), HttpStatusCode.OK);
        await Check("GetWebhookSubscription", client.GetAsync(new Uri("v1/webhooks/subscriptions/sub_nope", UriKind.Relative)), HttpStatusCode.NotFound);
        await Check("Publish", client.PublishAsync("news:c", """{"data":3}"""), HttpStatusCode.Created);
        await Check("UpdateWebhookSubscription", client.PatchAsync(new Uri($"v1/webhooks/subscriptions/{id}", UriKind.Relative), Json("""{"enabled":false}""")), HttpStatusCode.OK);
        var deliveries = await Check("ListWebhookDeliveries", client.GetAsync(new Uri($"v1/webhooks/deliveries?subscription={id}&limit=10", UriKind.Relative)), HttpStatusCode.OK);
        var delivery = deliveries.Value.GetProperty("deliveries")[0].GetProperty("id").GetInt64();
        await Check("ListWebhookDeliveries", client.GetAsync(new Uri("v1/webhooks/deliveries?status=nope", UriKind.Relative)), HttpStatusCode.BadRequest);
        await Check("GetWebhookDelivery", client.GetAsync(new Uri($"v1/webhooks/deliveries/{delivery}", UriKind.Relative)), HttpStatusCode.OK);
        await Check("ReplayWebhookDelivery", client.PostAsync(new Uri($"v1/webhooks/deliveries/{delivery}/replay", UriKind.Relative), null), HttpStatusCode.Conflict);
        await Check("DeleteWebhookSubscription", client.DeleteAsync(new Uri($"v1/webhooks/subscriptions/{id}", UriKind.Relative)), HttpStatusCode.NoContent);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> InboundAsync(HttpClient client, string key, string deliveryId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/webhooks/in/ci") { Content = Json("""{"room":"r1","text":"built"}""") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("X-Delivery-Id", deliveryId);
        return client.SendAsync(request);
    }

    /// <summary>A response body that must be there.</summary>
    private readonly record struct JsonElementOrNull(System.Text.Json.JsonElement? Body)
    {
        public System.Text.Json.JsonElement Value => Body ?? throw new InvalidOperationException("no body");
    }
}

internal static class HeldPolls
{
    public static async Task WaitUntilHeldPollAsync(this TestServer server)
    {
        var limiter = server.Services.GetRequiredService<global::Herald.Transports.LongPoll.PollLimiter>();
        var deadline = DateTime.UtcNow + HttpJson.Timeout;
        while (limiter.Held < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the long poll was never held");
            await Task.Delay(10);
        }
    }
}
