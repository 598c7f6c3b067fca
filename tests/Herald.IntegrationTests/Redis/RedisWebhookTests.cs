using System.Net;
using Herald.IntegrationTests.Webhooks;
using Herald.Testing;

namespace Herald.IntegrationTests.Redis;

/// <summary>
/// Outbound webhooks on the Redis engine: two real Herald nodes (Kestrel, in process) sharing one
/// real redis-server, and a real receiver. Whichever node a publication or an API call reaches,
/// the subscriptions, deliveries, retries, dead letters and replays are the deployment's.
/// </summary>
public sealed class RedisWebhookTests : IAsyncLifetime
{
    private RedisServer redis = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        redis = await RedisServer.StartAsync();
        receiver = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await redis.DisposeAsync();
    }

    [Fact]
    public async Task A_subscription_made_on_one_node_gets_the_publications_of_both_signed_with_one_webhook_id_each()
    {
        await using var first = await StartNodeAsync();
        await using var second = await StartNodeAsync();
        using var api1 = first.CreateClient();
        using var api2 = second.CreateClient();
        var subscription = await api1.SubscribeAsync(receiver.Url("both"), ["orders:*"]);
        var id = subscription.GetProperty("id").GetString()!;
        var secret = subscription.GetProperty("secret").GetString()!;
        Assert.Equal([id], (await api2.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        // Published right after the subscription was made, on the node that did not make it: matched.
        var published = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await (i % 2 == 0 ? api2 : api1).PublishAsync("orders:eu", $$"""{"data":{{i}}}""");
            Assert.True(response.IsSuccessStatusCode, $"publish {i} answered {(int)response.StatusCode}");
            published.Add((await response.ReadJsonAsync()).GetProperty("id").GetString()!);
        }

        await receiver.WaitUntilAsync(r => r.Where(x => x.AnsweredWith == 200).Select(x => x.Offset).Distinct().Count() == 20, TimeSpan.FromSeconds(60), "20 deliveries");
        var received = receiver.All.ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), received.Select(r => r.Offset).Distinct().Order());
        Assert.All(received, r => Assert.True(WebhookApi.SignatureVerifies(r, secret), $"offset {r.Offset}: bad signature"));
        Assert.Equal(published.Select(p => "msg_" + p).Order(StringComparer.Ordinal), received.Select(r => r.Id!).Distinct().Order(StringComparer.Ordinal));
        Assert.All(received, r => Assert.Equal("orders:eu", r.Json.GetProperty("channel").GetString()));

        // Either node lists every delivery, delivered, with its attempt.
        var deliveries = await api2.WaitForDeliveriesAsync(id, d => d.Count == 20 && d.All(x => x.GetProperty("status").GetString() == "delivered"), "20 delivered");
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), deliveries.Select(d => d.GetProperty("offset").GetInt64()).Order());
        Assert.Equal(deliveries.Select(d => d.GetProperty("id").GetInt64()).Order(), deliveries.Select(d => d.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task A_delivery_dead_lettered_on_one_node_is_replayed_from_the_other_with_the_same_webhook_id()
    {
        await using var first = await StartNodeAsync("0s, 200ms");
        await using var second = await StartNodeAsync("0s, 200ms");
        using var api1 = first.CreateClient();
        using var api2 = second.CreateClient();
        receiver.Script("down", 503, 502);
        var id = (await api1.SubscribeAsync(receiver.Url("down"), ["ops:alerts"])).GetProperty("id").GetString()!;

        using (await api1.PublishAsync("ops:alerts", """{"data":"disk full"}""")) { }
        var dead = Assert.Single(await api2.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].GetProperty("status").GetString() == "dead", "dead"));
        Assert.Equal([503, 502], dead.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));

        var deliveryId = dead.GetProperty("id").GetInt64();
        using (var replay = await api2.PostJsonAsync($"v1/webhooks/deliveries/{deliveryId}/replay", "{}"))
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);

        var delivered = Assert.Single(await api1.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].GetProperty("status").GetString() == "delivered", "delivered after the replay"));
        Assert.Equal([1, 2, 3], delivered.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal([503, 502, 200], receiver.All.Select(r => r.AnsweredWith));
        Assert.Single(receiver.All.Select(r => r.Id).Distinct());
    }

    [Fact]
    public async Task A_410_on_one_node_disables_the_subscription_for_the_other_which_queues_nothing_more()
    {
        await using var first = await StartNodeAsync();
        await using var second = await StartNodeAsync();
        using var api1 = first.CreateClient();
        using var api2 = second.CreateClient();
        receiver.Script("gone", 410);
        var id = (await api1.SubscribeAsync(receiver.Url("gone"), ["news:today"])).GetProperty("id").GetString()!;

        using (await api1.PublishAsync("news:today", """{"data":1}""")) { }
        Assert.Equal(410, (await receiver.NextAsync()).AnsweredWith);
        await api2.WaitForDeliveriesAsync(id, d => d.Count == 1 && d[0].GetProperty("status").GetString() == "dead", "dead");
        Assert.False((await api2.GetJsonAsync($"v1/webhooks/subscriptions/{id}")).GetProperty("enabled").GetBoolean());

        using (await api2.PublishAsync("news:today", """{"data":2}""")) { }
        Assert.Single(await api1.DeliveriesAsync(id));
        Assert.Single(receiver.All);
    }

    private Task<TestServer> StartNodeAsync(string schedule = "0s, 300ms, 300ms")
    {
        var settings = OutboundWebhookTests.Settings(schedule);
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        // One more second than the 5 s attempt timeout of these tests.
        settings["Herald:Redis:WebhookLease"] = "00:00:06";
        return TestServer.StartAsync("redis", settings);
    }
}
