using System.Text.Json;
using Herald.IntegrationTests.Presence;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>
/// Presence events through the outbox, end to end: a real server, a real receiver, WebSocket clients
/// entering a channel's presence and going. What a subscription receives is what it named.
/// </summary>
public sealed class PresenceWebhookTests : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    internal static readonly string[] AllPresence = ["channel.occupied", "channel.vacated", "presence.join", "presence.leave"];

    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    internal static Dictionary<string, string?> Settings(TimeSpan grace)
    {
        var settings = OutboundWebhookTests.Settings();
        settings["Herald:Auth:HmacSecret"] = Tokens.Secret;
        settings["Herald:Namespaces:room:Presence"] = "List";
        settings["Herald:Namespaces:room:PresenceLeaveGrace"] = grace.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        settings["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00";
        // news: presence off (the default): its subscribers make no presence events.
        return settings;
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("memory")]
    public async Task Entering_and_dropping_off_a_channel_posts_occupied_join_then_after_the_grace_leave_and_vacated_signed_once_each(string store)
    {
        await using var server = await TestServer.StartAsync(store, Settings(Grace));
        using var api = server.CreateClient();
        var all = await api.SubscribeAsync(receiver.Url("all"), ["*"], ordered: true, events: AllPresence);
        var occupancy = await api.SubscribeAsync(receiver.Url("occupancy"), ["room:*"], events: ["channel.occupied", "channel.vacated"]);
        var publications = await api.SubscribeAsync(receiver.Url("publications"), ["*"]);

        var info = new Dictionary<string, object> { ["info"] = new Dictionary<string, object> { ["name"] = "Alice" } };
        var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice", info));
        // A namespace without presence: nobody is present there, nothing is posted about it.
        Assert.Equal("subscribed", (await alice.RequestAsync("""{"id":1,"op":"subscribe","channel":"news:today"}""")).GetProperty("type").GetString());
        var entered = DateTimeOffset.UtcNow;
        await alice.SubscribeAsync("room:lobby", "enter");

        var first = await WaitForAsync("all", 2);
        Assert.Equal(["channel.occupied", "presence.join"], first.Select(Type));
        var join = first[1].Json;
        Assert.Equal("room:lobby", join.GetProperty("channel").GetString());
        Assert.Equal("alice", join.GetProperty("user").GetString());
        Assert.Equal("Alice", join.GetProperty("info").GetProperty("name").GetString());
        Assert.Equal(["type", "channel", "user", "info", "time"], join.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["type", "channel", "time"], first[0].Json.EnumerateObject().Select(p => p.Name));
        var joinedAt = join.GetProperty("time").GetDateTimeOffset();
        Assert.InRange(joinedAt, entered.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Equal(["channel.occupied"], (await WaitForAsync("occupancy", 1)).Select(Type));

        // Dropped without a close frame: alice stays present for the grace, then leaves.
        alice.Abort();
        await alice.DisposeAsync();
        var dropped = DateTimeOffset.UtcNow;
        var last = await WaitForAsync("all", 4);
        Assert.Equal(["channel.occupied", "presence.join", "presence.leave", "channel.vacated"], last.Select(Type));
        Assert.Equal("alice", last[2].Json.GetProperty("user").GetString());
        Assert.False(last[2].Json.TryGetProperty("info", out _));
        // The leave is the store's, after the grace: never before the drop plus the grace (less a tick of the clock).
        Assert.True(last[3].Json.GetProperty("time").GetDateTimeOffset() >= dropped + Grace - TimeSpan.FromMilliseconds(300), "vacated before the grace ran out");
        Assert.Equal(["channel.occupied", "channel.vacated"], (await WaitForAsync("occupancy", 2)).Select(Type));

        // Each signed with the subscription's secret, each its own evt_ id; every channel named is the presence one.
        var secret = all.GetProperty("secret").GetString()!;
        Assert.All(last, r => Assert.True(WebhookApi.SignatureVerifies(r, secret), $"{Type(r)}: bad signature"));
        Assert.All(last, r => Assert.Matches("^evt_[0-9a-f]{32}$", r.Id));
        Assert.Equal(4, last.Select(r => r.Id).Distinct().Count());
        Assert.All(last, r => Assert.Equal("room:lobby", r.Json.GetProperty("channel").GetString()));
        var occupancyIds = receiver.All.Where(r => r.Path == "occupancy").Select(r => r.Id);
        Assert.Equal([last[0].Id, last[3].Id], occupancyIds);

        // The deliveries list them with their type and no offset; a publication-only subscription got none of them.
        var deliveries = await api.WaitForDeliveriesAsync(all.GetProperty("id").GetString()!, d => d.Count == 4 && d.All(x => x.GetProperty("status").GetString() == "delivered"), "4 delivered");
        Assert.Equal(["channel.occupied", "presence.join", "presence.leave", "channel.vacated"], deliveries.Select(d => d.GetProperty("type").GetString()));
        Assert.All(deliveries, d => Assert.False(d.TryGetProperty("offset", out _)));
        Assert.Equal(last.Select(r => r.Id), deliveries.Select(d => d.GetProperty("webhookId").GetString()));
        using (await api.PublishAsync("news:today", """{"data":"marker"}""")) { }
        var marker = await WaitForAsync("publications", 1);
        Assert.Equal("publication", Type(marker[0]));
        var published = Assert.Single(await api.DeliveriesAsync(publications.GetProperty("id").GetString()!));
        Assert.Equal(("publication", 1L), (published.GetProperty("type").GetString(), published.GetProperty("offset").GetInt64()));
        Assert.Equal(2, (await api.DeliveriesAsync(occupancy.GetProperty("id").GetString()!)).Count);
    }

    [Fact]
    public async Task A_second_tab_and_a_reconnect_within_the_grace_post_nothing_and_an_unsubscribe_leaves_at_once()
    {
        await using var server = await TestServer.StartAsync("sqlite", Settings(TimeSpan.FromSeconds(30)));
        using var api = server.CreateClient();
        await api.SubscribeAsync(receiver.Url("all"), ["room:*"], ordered: true, events: AllPresence);

        await using var tab1 = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        await tab1.SubscribeAsync("room:tabs", "enter");
        Assert.Equal(["channel.occupied", "presence.join"], (await WaitForAsync("all", 2)).Select(Type));

        await using (var tab2 = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob")))
            await tab2.SubscribeAsync("room:tabs", "enter");
        var dropped = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        await dropped.SubscribeAsync("room:tabs", "enter");
        dropped.Abort();
        await dropped.DisposeAsync();
        await WaitForConnectionsAsync(api, "room:tabs", 1);

        // Within the 30 s grace and with tab 1 still there: bob never left. An unsubscribe leaves at once.
        await tab1.RequestAsync("""{"id":9,"op":"unsubscribe","channel":"room:tabs"}""");
        var events = await WaitForAsync("all", 4);
        Assert.Equal(["channel.occupied", "presence.join", "presence.leave", "channel.vacated"], events.Select(Type));
    }

    /// <summary>The first <paramref name="count"/> requests to <paramref name="path"/>, in arrival order, each once (a retry would repeat an id).</summary>
    private async Task<List<ReceivedWebhook>> WaitForAsync(string path, int count)
    {
        await receiver.WaitUntilAsync(all => all.Count(r => r.Path == path && r.AnsweredWith == 200) >= count, TimeSpan.FromSeconds(30), $"{count} requests to /{path}");
        var received = receiver.All.Where(r => r.Path == path).ToList();
        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count());
        return [.. received.Take(count)];
    }

    private static async Task WaitForConnectionsAsync(HttpClient api, string channel, int connections)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.GetJsonAsync($"v1/channels/{channel}/presence/count")).GetProperty("connections").GetInt32() != connections)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{channel} never had {connections} connections");
            await Task.Delay(50);
        }
    }

    internal static string? Type(ReceivedWebhook received) => received.Json.GetProperty("type").GetString();
}
