using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>
/// <c>POST /v1/webhooks/in/{source}</c> against a real server on SQLite, one source per scheme: a valid
/// delivery reaches a live SSE subscriber; a tampered body, a wrong secret or a stale timestamp is
/// refused with nothing stored; a redelivery is answered as a duplicate with nothing appended.
/// </summary>
public sealed class InboundWebhookTests : IAsyncLifetime
{
    private const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string GitHubSecret = "It's a Secret to Everybody";
    private const string StripeSecret = "whsec_stripe_endpoint_secret";
    private const string ApiKeySecret = "inbound-key-0123456789";

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Webhooks:Sources:std:Scheme"] = "StandardWebhooks",
        ["Herald:Webhooks:Sources:std:Secrets:0"] = "whsec_" + Convert.ToBase64String(new byte[32]),
        ["Herald:Webhooks:Sources:std:Secrets:1"] = StandardSecret,
        ["Herald:Webhooks:Sources:std:Channel"] = "hooks:{data.room}",
        ["Herald:Webhooks:Sources:github:Scheme"] = "GitHub",
        ["Herald:Webhooks:Sources:github:Secrets:0"] = GitHubSecret,
        ["Herald:Webhooks:Sources:github:Channel"] = "notify:{repository.full_name}",
        ["Herald:Webhooks:Sources:stripe:Scheme"] = "Stripe",
        ["Herald:Webhooks:Sources:stripe:Secrets:0"] = StripeSecret,
        ["Herald:Webhooks:Sources:stripe:Channel"] = "pay:{data.object.customer}",
        ["Herald:Webhooks:Sources:apikey:Scheme"] = "ApiKey",
        ["Herald:Webhooks:Sources:apikey:Secrets:0"] = ApiKeySecret,
        ["Herald:Webhooks:Sources:apikey:Channel"] = "api:{room}",
        ["Herald:Webhooks:Sources:apikey:MaxBodyBytes"] = "1024",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    public static TheoryData<string> Schemes => new() { "std", "github", "stripe", "apikey" };

    /// <summary>The schemes that sign the body (ApiKey authenticates the sender only).</summary>
    public static TheoryData<string> SigningSchemes => new() { "std", "github", "stripe" };

    public static TheoryData<string> TimestampedSchemes => new() { "std", "stripe" };

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task A_valid_delivery_is_accepted_and_reaches_a_live_subscriber(string source)
    {
        var room = NewRoom();
        var delivery = Delivery.For(source, room);
        await using var push = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), "sse", [delivery.Channel]);
        await push.ExpectAsync("subscribed");

        using var response = await SendAsync(delivery);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answer = await response.ReadJsonAsync();
        Assert.Equal(delivery.Channel, answer.GetProperty("channel").GetString());
        Assert.Equal(1, answer.GetProperty("offset").GetInt64());
        Assert.Equal(delivery.Id, answer.GetProperty("deliveryId").GetString());
        Assert.False(answer.TryGetProperty("duplicate", out _));

        var publication = await push.ExpectAsync("publication");
        Assert.Equal(delivery.Channel, publication.Channel);
        Assert.Equal("webhook:" + source, publication.Json.GetProperty("from").GetString());
        Assert.Equal(delivery.ExpectedType, publication.Json.GetProperty("msgType").GetString());
        Assert.Equal(room, publication.Json.GetProperty("data").GetProperty("marker").GetString());
        Assert.Equal(answer.GetProperty("id").GetString(), publication.Json.GetProperty("id").GetString());
        var meta = publication.Json.GetProperty("meta");
        Assert.Equal(source, meta.GetProperty("source").GetString());
        Assert.Equal(delivery.Id, meta.GetProperty("deliveryId").GetString());

        // History and every resume see the same publication, meta included.
        using var api = server.CreateClient();
        var stored = Assert.Single(await api.ReadAllAsync(delivery.Channel));
        Assert.Equal(delivery.Id, stored.GetProperty("meta").GetProperty("deliveryId").GetString());
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task A_replayed_delivery_is_a_duplicate_and_appends_nothing(string source)
    {
        var delivery = Delivery.For(source, NewRoom());
        using (var first = await SendAsync(delivery))
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);

        using var replay = await SendAsync(delivery);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var answer = await replay.ReadJsonAsync();
        Assert.True(answer.GetProperty("duplicate").GetBoolean());
        Assert.Equal(1, answer.GetProperty("offset").GetInt64());
        Assert.Equal(delivery.Id, answer.GetProperty("deliveryId").GetString());

        using var api = server.CreateClient();
        Assert.Single(await api.ReadAllAsync(delivery.Channel));
    }

    [Theory]
    [MemberData(nameof(SigningSchemes))]
    public async Task A_tampered_body_is_refused_and_nothing_is_stored(string source)
    {
        var delivery = Delivery.For(source, NewRoom());
        var tampered = delivery with { Body = delivery.Body.Replace("\"marker\"", "\"marker\" ", StringComparison.Ordinal) };
        await AssertRefusedAsync(tampered, "invalid_signature");
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task A_wrong_secret_is_refused_and_nothing_is_stored(string source)
    {
        var secret = source == "std" ? "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("not the secret at all")) : "not the secret";
        await AssertRefusedAsync(Delivery.For(source, NewRoom(), secret: secret), "invalid_signature");
    }

    [Theory]
    [MemberData(nameof(TimestampedSchemes))]
    public async Task A_stale_timestamp_is_refused_and_nothing_is_stored(string source)
    {
        var stale = DateTimeOffset.UtcNow.AddMinutes(-6).ToUnixTimeSeconds();
        await AssertRefusedAsync(Delivery.For(source, NewRoom(), timestamp: stale), "stale_timestamp");
    }

    [Fact]
    public async Task Unknown_source_too_large_non_json_and_missing_template_path_are_refused()
    {
        using var client = server.CreateClient(apiKey: null);
        using (var unknown = await client.PostAsync(new Uri("v1/webhooks/in/nope", UriKind.Relative), new StringContent("{}")))
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "unknown_source");

        var big = Delivery.For("apikey", NewRoom()) with { Body = "{\"room\":\"x\",\"pad\":\"" + new string('a', 2000) + "\"}" };
        using (var tooLarge = await SendAsync(big))
            await AssertProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "message_too_large");

        // ApiKey signs no body, so these bodies need no re-signing.
        var room = NewRoom();
        using (var notJson = await SendAsync(Delivery.For("apikey", room) with { Body = "not json" }))
            await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "invalid_body");

        using (var noPath = await SendAsync(Delivery.For("apikey", room) with { Body = "{\"rooms\":\"x\"}" }))
            await AssertProblemAsync(noPath, HttpStatusCode.BadRequest, "invalid_channel");
    }

    [Fact]
    public async Task Accepted_duplicate_and_rejected_deliveries_are_counted_in_metrics_by_source_and_reason()
    {
        var counted = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Herald" && instrument.Name.StartsWith("herald.webhooks.inbound.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var labels = new Dictionary<string, object?>();
            foreach (var tag in tags)
                labels[tag.Key] = tag.Value;
            if (labels.GetValueOrDefault("source") is "stripe" or "(unknown)")
                counted.AddOrUpdate($"{instrument.Name}/{labels.GetValueOrDefault("source")}/{labels.GetValueOrDefault("outcome") ?? labels.GetValueOrDefault("reason")}", value, (_, n) => n + value);
        });
        listener.Start();

        var delivery = Delivery.For("stripe", NewRoom());
        using (await SendAsync(delivery)) { }
        using (await SendAsync(delivery)) { }
        using (await SendAsync(delivery with { Body = delivery.Body + " " })) { }
        using (await SendAsync(Delivery.For("stripe", NewRoom(), timestamp: DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds()))) { }
        using (var client = server.CreateClient(apiKey: null))
        using (await client.PostAsync(new Uri("v1/webhooks/in/nope", UriKind.Relative), new StringContent("{}")).WaitAsync(HttpJson.Timeout)) { }

        Assert.Equal(1, counted.GetValueOrDefault("herald.webhooks.inbound.accepted/stripe/published"));
        Assert.Equal(1, counted.GetValueOrDefault("herald.webhooks.inbound.accepted/stripe/duplicate"));
        Assert.Equal(1, counted.GetValueOrDefault("herald.webhooks.inbound.rejections/stripe/invalid_signature"));
        Assert.Equal(1, counted.GetValueOrDefault("herald.webhooks.inbound.rejections/stripe/stale_timestamp"));
        Assert.True(counted.GetValueOrDefault("herald.webhooks.inbound.rejections/(unknown)/unknown_source") >= 1);
    }

    private async Task AssertRefusedAsync(Delivery delivery, string code)
    {
        using (var response = await SendAsync(delivery))
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, code);

        using var api = server.CreateClient();
        Assert.Empty(await api.ReadAllAsync(delivery.Channel));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    private async Task<HttpResponseMessage> SendAsync(Delivery delivery)
    {
        using var client = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/webhooks/in/{delivery.Source}")
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in delivery.Headers)
            request.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }

    private static string NewRoom() => "r" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A delivery as each sender would build it; the headers are signed over <see cref="SignedBody"/>, so changing <see cref="Body"/> afterwards tampers.</summary>
    private sealed record Delivery(string Source, string Channel, string Body, string Id, string ExpectedType, IReadOnlyList<(string Name, string Value)> Headers)
    {
        public static Delivery For(string source, string room, string? secret = null, long? timestamp = null)
        {
            var id = "d-" + Guid.NewGuid().ToString("N");
            var t = (timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture);
            switch (source)
            {
                case "std":
                {
                    // Pretty-printed on purpose: the signature covers the raw bytes, the stored data is compacted.
                    var body = $"{{\n  \"type\": \"room.updated\",\n  \"marker\": \"{room}\",\n  \"data\": {{ \"room\": \"{room}\" }}\n}}";
                    var key = Convert.FromBase64String((secret ?? StandardSecret)["whsec_".Length..]);
                    var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{t}.{body}")));
                    return new(source, $"hooks:{room}", body, id, "room.updated",
                        [("webhook-id", id), ("webhook-timestamp", t), ("webhook-signature", "v1,bm9wZQ== v1," + signature)]);
                }

                case "github":
                {
                    var body = $"{{\"marker\":\"{room}\",\"repository\":{{\"full_name\":\"octo/{room}\"}}}}";
                    var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret ?? GitHubSecret), Encoding.UTF8.GetBytes(body)));
                    return new(source, $"notify:octo-{room}", body, id, "push",
                        [("X-Hub-Signature-256", "sha256=" + signature), ("X-GitHub-Delivery", id), ("X-GitHub-Event", "push")]);
                }

                case "stripe":
                {
                    var body = $"{{\"id\":\"{id}\",\"type\":\"invoice.paid\",\"marker\":\"{room}\",\"data\":{{\"object\":{{\"customer\":\"{room}\"}}}}}}";
                    var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret ?? StripeSecret), Encoding.UTF8.GetBytes($"{t}.{body}")));
                    return new(source, $"pay:{room}", body, id, "invoice.paid", [("Stripe-Signature", $"t={t},v1={signature}")]);
                }

                default:
                {
                    var body = $"{{\"marker\":\"{room}\",\"room\":\"{room}\"}}";
                    return new(source, $"api:{room}", body, id, "webhook",
                        [("Authorization", "Bearer " + (secret ?? ApiKeySecret)), ("Idempotency-Key", id)]);
                }
            }
        }
    }
}
