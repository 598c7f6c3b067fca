using Herald.IntegrationTests.Metrics;
using Herald.IntegrationTests.Presence;
using Herald.IntegrationTests.Transports.WebSocket;
using Herald.IntegrationTests.Webhooks;
using Herald.Testing;

namespace Herald.IntegrationTests.Redis;

/// <summary>
/// Presence events on several nodes sharing one Redis: each transition is enqueued by the one node
/// whose store call made it, so each event is one delivery — whichever node the users are on, and
/// when two nodes sweep a killed one's users.
/// </summary>
public sealed class RedisPresenceWebhookTests
{
    [Fact]
    public async Task Each_presence_event_is_made_once_across_three_nodes_even_when_two_sweep_a_killed_one()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = PresenceWebhookTests.Settings(TimeSpan.FromSeconds(1));
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        settings["Herald:Redis:WebhookLease"] = "00:00:06";
        settings["Herald:Node:PresenceLease"] = "00:00:03";
        await using var a = await TestServer.StartAsync("redis", settings);
        await using var c = await TestServer.StartAsync("redis", settings);
        var data = TempDirectory.Create();
        try
        {
            await using var b = await HeraldProcess.StartAsync(data, ["--store", "redis", .. settings.Select(s => $"--{s.Key}={s.Value}")]);
            using var api = c.CreateClient();
            var subscription = await api.SubscribeAsync(receiver.Url("all"), ["room:*"], events: PresenceWebhookTests.AllPresence);
            var id = subscription.GetProperty("id").GetString()!;
            var secret = subscription.GetProperty("secret").GetString()!;

            const string channel = "room:nodes";
            await using var alice = await WsClient.ConnectAsync(a.BaseAddress, Tokens.Mint("alice"));
            await alice.SubscribeAsync(channel, "enter");
            var bob = await WsClient.ConnectAsync(b.BaseAddress, Tokens.Mint("bob"));
            await bob.SubscribeAsync(channel, "enter");
            await using var carol = await WsClient.ConnectAsync(c.BaseAddress, Tokens.Mint("carol"));
            await carol.SubscribeAsync(channel, "enter");
            await WaitForEventsAsync(receiver, 4);

            // Node B is killed with bob on it: A and C both sweep it when its lease runs out; one of them makes bob's leave.
            await b.KillAsync();
            bob.Abort();
            await bob.DisposeAsync();
            await WaitForEventsAsync(receiver, 5);
            await carol.RequestAsync($$"""{"id":9,"op":"unsubscribe","channel":"{{channel}}"}""");
            await WaitForEventsAsync(receiver, 6);
            await alice.RequestAsync($$"""{"id":9,"op":"unsubscribe","channel":"{{channel}}"}""");
            await WaitForEventsAsync(receiver, 8);

            // Past another node lease and several maintenance rounds of both nodes: nothing more is made.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var events = receiver.All.Where(r => r.AnsweredWith == 200).GroupBy(r => r.Id).Select(g => g.First()).ToList();
            Assert.All(events, r => Assert.True(WebhookApi.SignatureVerifies(r, secret), "bad signature"));
            var described = events.Select(r => PresenceWebhookTests.Type(r) + " " + (r.Json.TryGetProperty("user", out var user) ? user.GetString() : channel)).ToList();
            Assert.Equal(
                ["channel.occupied room:nodes", "channel.vacated room:nodes", "presence.join alice", "presence.join bob", "presence.join carol", "presence.leave alice", "presence.leave bob", "presence.leave carol"],
                described.Order(StringComparer.Ordinal));

            var deliveries = await api.DeliveriesAsync(id);
            Assert.Equal(8, deliveries.Count);
            Assert.Equal(events.Select(r => r.Id).Order(StringComparer.Ordinal), deliveries.Select(d => d.GetProperty("webhookId").GetString()).Order(StringComparer.Ordinal));
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task When_the_outbox_cannot_be_written_the_events_are_counted_and_logged_as_lost_and_presence_goes_on()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = PresenceWebhookTests.Settings(TimeSpan.FromSeconds(1));
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        var logs = new CapturedLogs();
        await using var node = await TestServer.StartAsync("redis", settings, logs: logs);
        using var api = node.CreateClient();
        await api.SubscribeAsync(receiver.Url("all"), ["room:*"], events: PresenceWebhookTests.AllPresence);

        // The outbox stream of the channel's partition is a string now: every write to it fails
        // (WRONGTYPE), as it would with an engine that cannot take the write.
        const string channel = "room:broken";
        var keys = new Herald.Redis.RedisKeys("herald", 128);
        await using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Configuration))
            await connection.GetDatabase().StringSetAsync(keys.Outbox(keys.PartitionOf(channel)), "not a stream").WaitAsync(WsClient.Timeout);

        await using var watcher = await WsClient.ConnectAsync(node);
        await watcher.SubscribeAsync(channel, "list");
        await using var alice = await WsClient.ConnectAsync(node, bearer: Tokens.Mint("alice"));
        await alice.SubscribeAsync(channel, "enter");
        Assert.Equal(["alice"], (await watcher.ExpectAsync("presence")).Users("join"));
        await alice.RequestAsync($$"""{"id":9,"op":"unsubscribe","channel":"{{channel}}"}""");
        Assert.Equal(["alice"], (await watcher.ExpectAsync("presence")).Users("leave"));

        var deadline = DateTime.UtcNow + WsClient.Timeout;
        while (!logs.Entries.Any(e => e.EventId == 1805))
        {
            Assert.True(DateTime.UtcNow < deadline, "the lost events were not logged");
            await Task.Delay(50);
        }

        var lost = logs.Entries.First(e => e.EventId == 1805);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, lost.Level);
        Assert.Contains(channel, lost.Message, StringComparison.Ordinal);
        using var scrape = await api.GetAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(WsClient.Timeout);
        var failed = PrometheusText.Parse(await scrape.Content.ReadAsStringAsync()).Value("herald_webhooks_outbound_events_failed_total");
        // The channel's occupied and alice's join at least: their writes ended before her leave was applied.
        Assert.True(failed >= 2, $"only {failed} events counted as lost");
        Assert.DoesNotContain(receiver.All, r => r.Json.GetProperty("channel").GetString() == channel);
    }

    /// <summary>Waits until <paramref name="count"/> distinct events were answered 200 (a retry after the kill repeats an id).</summary>
    private static Task WaitForEventsAsync(WebhookReceiver receiver, int count) =>
        receiver.WaitUntilAsync(all => all.Where(r => r.AnsweredWith == 200).Select(r => r.Id).Distinct().Count() >= count, TimeSpan.FromSeconds(60), $"{count} presence events");
}
