using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>
/// Outbound webhooks from a real server to a real receiver (both Kestrel on 127.0.0.1, private
/// targets allowed by configuration), with the retry schedule shortened to fractions of a second.
/// </summary>
public sealed class OutboundWebhookTests : IAsyncLifetime
{
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    internal static Dictionary<string, string?> Settings(string schedule = "0s, 300ms, 300ms") => new()
    {
        ["Herald:Webhooks:Outbound:AllowPrivateTargets"] = "true",
        ["Herald:Webhooks:Outbound:RetrySchedule"] = schedule,
        ["Herald:Webhooks:Outbound:AttemptTimeout"] = "00:00:05",
    };

    [Theory]
    [InlineData("sqlite")]
    [InlineData("memory")]
    public async Task A_publication_is_posted_as_its_JSON_with_a_Standard_Webhooks_signature_that_verifies(string store)
    {
        await using var server = await TestServer.StartAsync(store, Settings());
        using var api = server.CreateClient();
        var subscription = await api.SubscribeAsync(receiver.Url("orders"), ["orders:*"]);
        var secret = subscription.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);

        using var published = await api.PublishAsync("orders:eu", """{"data":{"total":42},"type":"order.created"}""");
        var publication = await published.ReadJsonAsync();

        var received = await receiver.NextAsync();
        Assert.True(WebhookApi.SignatureVerifies(received, secret), "the signature does not verify");
        Assert.Equal("msg_" + publication.GetProperty("id").GetString(), received.Id);
        var sent = long.Parse(received.Timestamp!, CultureInfo.InvariantCulture);
        Assert.InRange(sent, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
        Assert.Equal("application/json; charset=utf-8", received.ContentType);

        // The body is the publication exactly as every other transport carries it.
        var body = received.Json;
        Assert.Equal("publication", body.GetProperty("type").GetString());
        Assert.Equal("orders:eu", body.GetProperty("channel").GetString());
        Assert.Equal(1, body.GetProperty("offset").GetInt64());
        Assert.Equal(publication.GetProperty("epoch").GetString(), body.GetProperty("epoch").GetString());
        Assert.Equal("order.created", body.GetProperty("msgType").GetString());
        Assert.Equal(42, body.GetProperty("data").GetProperty("total").GetInt32());

        // A receiver that checks the signature refuses the body once it is changed.
        var tampered = received with { Body = [.. received.Body, (byte)' '] };
        Assert.False(WebhookApi.SignatureVerifies(tampered, secret));
        Assert.False(WebhookApi.SignatureVerifies(received, "whsec_" + Convert.ToBase64String(new byte[32])));

        var delivery = Assert.Single(await api.WaitForDeliveriesAsync(subscription.GetProperty("id").GetString()!, d => d.Count == 1 && Status(d[0]) == "delivered", "delivered"));
        Assert.Equal(received.Id, delivery.GetProperty("webhookId").GetString());
        var attempt = Assert.Single(delivery.GetProperty("attempts").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        Assert.False(attempt.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task A_receiver_answering_500_twice_then_200_gets_it_on_the_third_attempt_with_one_webhook_id()
    {
        await using var server = await TestServer.StartAsync(settings: Settings());
        using var api = server.CreateClient();
        receiver.Script("flaky", 500, 500);
        var subscription = await api.SubscribeAsync(receiver.Url("flaky"), ["billing:invoices"]);
        var id = subscription.GetProperty("id").GetString()!;

        using (await api.PublishAsync("billing:invoices", """{"data":"inv-1"}""")) { }
        await receiver.WaitUntilAsync(all => all.Count >= 3, TimeSpan.FromSeconds(30), "three attempts");

        var attempts = receiver.All.ToList();
        Assert.Equal([500, 500, 200], attempts.Select(a => a.AnsweredWith));
        Assert.Single(attempts.Select(a => a.Id).Distinct());
        Assert.All(attempts, a => Assert.True(WebhookApi.SignatureVerifies(a, subscription.GetProperty("secret").GetString()!)));

        var delivery = Assert.Single(await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && Status(d[0]) == "delivered", "delivered"));
        var recorded = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], recorded.Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal([500, 500, 200], recorded.Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Contains("500", recorded[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.All(recorded, a => Assert.True(a.GetProperty("latencyMs").GetInt32() >= 0));
        // The schedule is honoured: each retry waited its 300 ms.
        var times = recorded.Select(a => a.GetProperty("at").GetDateTime()).ToList();
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(250), $"retried after {times[1] - times[0]}");
        Assert.True(times[2] - times[1] >= TimeSpan.FromMilliseconds(250), $"retried after {times[2] - times[1]}");
    }

    [Fact]
    public async Task A_410_Gone_dead_letters_the_delivery_and_disables_the_subscription_until_it_is_enabled_again()
    {
        await using var server = await TestServer.StartAsync(settings: Settings());
        using var api = server.CreateClient();
        receiver.Script("gone", 410);
        var subscription = await api.SubscribeAsync(receiver.Url("gone"), ["news:today"]);
        var id = subscription.GetProperty("id").GetString()!;

        using (await api.PublishAsync("news:today", """{"data":1}""")) { }
        Assert.Equal(410, (await receiver.NextAsync()).AnsweredWith);
        var deliveries = await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && Status(d[0]) == "dead", "dead");
        Assert.Equal(410, Assert.Single(deliveries[0].GetProperty("attempts").EnumerateArray()).GetProperty("statusCode").GetInt32());

        var disabled = await api.GetJsonAsync($"v1/webhooks/subscriptions/{id}");
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Contains("410", disabled.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);
        Assert.False(disabled.TryGetProperty("secret", out _));

        // Disabled: nothing is queued for it, and a replay is refused.
        using (await api.PublishAsync("news:today", """{"data":2}""")) { }
        using (var replay = await api.PostJsonAsync($"v1/webhooks/deliveries/{deliveries[0].GetProperty("id").GetInt64()}/replay", "{}"))
            await WebhookApi.AssertProblemAsync(replay, HttpStatusCode.Conflict, "subscription_disabled");
        Assert.Single(await api.DeliveriesAsync(id));
        Assert.Single(receiver.All);

        using (var enable = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"enabled":true}""", HttpMethod.Patch))
        {
            Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
            var enabled = await enable.ReadJsonAsync();
            Assert.True(enabled.GetProperty("enabled").GetBoolean());
            Assert.False(enabled.TryGetProperty("disabledReason", out _));
        }

        using (await api.PublishAsync("news:today", """{"data":3}""")) { }
        var received = await receiver.NextAsync();
        Assert.Equal(3, received.Json.GetProperty("data").GetInt32());
        Assert.Equal(200, received.AnsweredWith);
    }

    [Fact]
    public async Task After_the_last_attempt_a_delivery_is_dead_and_a_replay_delivers_it_with_the_same_webhook_id()
    {
        await using var server = await TestServer.StartAsync(settings: Settings("0s, 200ms"));
        using var api = server.CreateClient();
        receiver.Script("down", 503, 502);
        var subscription = await api.SubscribeAsync(receiver.Url("down"), ["ops:alerts"]);
        var id = subscription.GetProperty("id").GetString()!;

        using (await api.PublishAsync("ops:alerts", """{"data":"disk full"}""")) { }
        var dead = Assert.Single(await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && Status(d[0]) == "dead", "dead"));
        Assert.Equal([503, 502], dead.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
        var deadOnly = await api.GetJsonAsync($"v1/webhooks/deliveries?status=dead&subscription={id}");
        Assert.Single(deadOnly.GetProperty("deliveries").EnumerateArray());

        var deliveryId = dead.GetProperty("id").GetInt64();
        using (var replay = await api.PostJsonAsync($"v1/webhooks/deliveries/{deliveryId}/replay", "{}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
            Assert.Equal(deliveryId, (await replay.ReadJsonAsync()).GetProperty("id").GetInt64());
        }

        var delivered = Assert.Single(await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && Status(d[0]) == "delivered", "delivered after the replay"));
        Assert.Equal([1, 2, 3], delivered.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.Single(receiver.All.Select(a => a.Id).Distinct());
        Assert.Equal(3, receiver.All.Count);
    }

    [Fact]
    public async Task Patterns_select_channels_exactly_by_namespace_by_prefix_or_all()
    {
        await using var server = await TestServer.StartAsync(settings: Settings());
        using var api = server.CreateClient();
        var exact = (await api.SubscribeAsync(receiver.Url("exact"), ["shop:eu"])).GetProperty("id").GetString()!;
        var space = (await api.SubscribeAsync(receiver.Url("space"), ["shop:*"])).GetProperty("id").GetString()!;
        var prefix = (await api.SubscribeAsync(receiver.Url("prefix"), ["shop:e*", "shop:eu"])).GetProperty("id").GetString()!;
        var all = (await api.SubscribeAsync(receiver.Url("all"), ["*"])).GetProperty("id").GetString()!;

        foreach (var channel in new[] { "shop:eu", "shop:us", "shop:east", "shopping:eu", "other:x" })
        {
            using (await api.PublishAsync(channel, """{"data":0}""")) { }
        }

        await receiver.WaitUntilAsync(r => r.Count >= 1 + 3 + 2 + 5, TimeSpan.FromSeconds(30), "every matching delivery");
        string[] ChannelsOf(string path) => [.. receiver.All.Where(r => r.Path == path).Select(r => r.Json.GetProperty("channel").GetString()!).Order(StringComparer.Ordinal)];
        Assert.Equal(["shop:eu"], ChannelsOf("exact"));
        Assert.Equal(["shop:east", "shop:eu", "shop:us"], ChannelsOf("space"));
        Assert.Equal(["shop:east", "shop:eu"], ChannelsOf("prefix"));
        Assert.Equal(["other:x", "shop:east", "shop:eu", "shop:us", "shopping:eu"], ChannelsOf("all"));
        Assert.Equal(11, receiver.All.Count);
        foreach (var (subscription, count) in new[] { (exact, 1), (space, 3), (prefix, 2), (all, 5) })
            Assert.Equal(count, (await api.DeliveriesAsync(subscription)).Count);
    }

    [Fact]
    public async Task An_ordered_subscription_holds_later_deliveries_back_until_the_earlier_one_is_delivered()
    {
        await using var server = await TestServer.StartAsync(settings: Settings("0s, 300ms, 300ms, 300ms"));
        using var api = server.CreateClient();
        receiver.Script("ordered", 500, 500);
        await api.SubscribeAsync(receiver.Url("ordered"), ["chat:room"], ordered: true);

        for (var i = 1; i <= 5; i++)
        {
            using (await api.PublishAsync("chat:room", $$"""{"data":{{i}}}""")) { }
        }

        await receiver.WaitUntilAsync(r => r.Count(x => x.AnsweredWith == 200) >= 5, TimeSpan.FromSeconds(30), "five deliveries");
        Assert.Equal([1, 1, 1, 2, 3, 4, 5], receiver.All.Select(r => r.Offset));
    }

    [Fact]
    public async Task Deleting_a_subscription_stops_its_deliveries_and_removes_them()
    {
        await using var server = await TestServer.StartAsync(settings: Settings("0s, 10m"));
        using var api = server.CreateClient();
        receiver.Script("bye", 500);
        var id = (await api.SubscribeAsync(receiver.Url("bye"), ["feed:a"])).GetProperty("id").GetString()!;
        using (await api.PublishAsync("feed:a", """{"data":1}""")) { }
        await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].GetProperty("attempts").GetArrayLength() == 1, "a failed attempt");

        using (var delete = await api.DeleteAsync(new Uri($"v1/webhooks/subscriptions/{id}", UriKind.Relative)))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var again = await api.DeleteAsync(new Uri($"v1/webhooks/subscriptions/{id}", UriKind.Relative)))
            await WebhookApi.AssertProblemAsync(again, HttpStatusCode.NotFound, "subscription_not_found");
        Assert.Empty(await api.DeliveriesAsync(id));
        Assert.Empty((await api.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").EnumerateArray());

        using (await api.PublishAsync("feed:a", """{"data":2}""")) { }
        await Task.Delay(300);
        Assert.Single(receiver.All);
    }

    internal static string Status(JsonElement delivery) => delivery.GetProperty("status").GetString()!;
}
