using System.Net;
using System.Text.Json;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>The subscription and delivery API's answers to bad input, missing credentials and limits.</summary>
public sealed class SubscriptionApiTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Webhooks:Outbound:AllowPrivateTargets"] = "true",
        ["Herald:Webhooks:Outbound:MaxSubscriptions"] = "3",
        ["Herald:Webhooks:Outbound:MaxChannelPatterns"] = "2",
        ["Herald:Webhooks:Outbound:MaxUrlLength"] = "64",
        ["Herald:Webhooks:Outbound:MaxPageSize"] = "5",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("""{"url":"ftp://example.com/x","channels":["a:b"]}""", "invalid_url")]
    [InlineData("""{"url":"/relative","channels":["a:b"]}""", "invalid_url")]
    [InlineData("""{"url":"https://user:pw@example.com/x","channels":["a:b"]}""", "invalid_url")]
    [InlineData("""{"url":"https://example.com/x#frag","channels":["a:b"]}""", "invalid_url")]
    [InlineData("""{"url":"https://example.com/0123456789012345678901234567890123456789012345","channels":["a:b"]}""", "invalid_url")]
    [InlineData("""{"url":"https://example.com/x","channels":[]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b","a:c","a:d"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["nocolon"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:*b"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["*:b"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["A:b"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b!*"]}""", "invalid_channel_pattern")]
    [InlineData("""{"url":"https://example.com/x"}""", "invalid_body")]
    [InlineData("""{"channels":["a:b"]}""", "invalid_body")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"color":"red"}""", "invalid_body")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"secret":"whsec_c2hvcnQ="}""", "invalid_body")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"secret":"not-whsec"}""", "invalid_body")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":[]}""", "invalid_event_type")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":["message"]}""", "invalid_event_type")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":["Publication"]}""", "invalid_event_type")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":["publication","presence.joined"]}""", "invalid_event_type")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":["publication",null]}""", "invalid_event_type")]
    [InlineData("""{"url":"https://example.com/x","channels":["a:b"],"events":"publication"}""", "invalid_body")]
    [InlineData("""[1,2]""", "invalid_body")]
    [InlineData("""not json""", "invalid_body")]
    public async Task Bad_subscriptions_are_refused_with_a_stable_code_and_nothing_is_stored(string body, string code)
    {
        using var api = server.CreateClient();
        using var response = await api.PostJsonAsync("v1/webhooks/subscriptions", body);
        await WebhookApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Empty((await api.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").EnumerateArray());
    }

    [Fact]
    public async Task The_url_and_pattern_limits_hold_exactly_at_their_boundary_and_a_given_secret_is_kept()
    {
        using var api = server.CreateClient();
        var url = "https://example.com/" + new string('a', 64 - "https://example.com/".Length);
        var secret = "whsec_" + Convert.ToBase64String(new byte[24]);
        using var response = await api.PostJsonAsync("v1/webhooks/subscriptions", $$"""{"url":"{{url}}","channels":["a:b","c:*"],"secret":"{{secret}}","description":"d"}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadJsonAsync();
        Assert.Equal(secret, created.GetProperty("secret").GetString());
        Assert.Equal(url, created.GetProperty("url").GetString());
        Assert.Matches("^sub_[a-z2-7]{20}$", created.GetProperty("id").GetString());
        await DeleteAllAsync(api);
    }

    [Fact]
    public async Task Event_types_default_to_publication_every_one_is_accepted_and_a_patch_changes_them_or_is_refused_whole()
    {
        using var api = server.CreateClient();
        var plain = await api.SubscribeAsync("https://example.com/plain", ["a:b"]);
        Assert.Equal(["publication"], plain.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        string[] all = ["publication", "channel.occupied", "channel.vacated", "presence.join", "presence.leave"];
        var every = await api.SubscribeAsync("https://example.com/every", ["a:*"], events: [.. all, "presence.join"]);
        Assert.Equal(all, every.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        var id = every.GetProperty("id").GetString()!;
        Assert.Equal(all, (await api.GetJsonAsync($"v1/webhooks/subscriptions/{id}")).GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        using (var patched = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"events":["channel.vacated"]}""", HttpMethod.Patch))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.Equal(["channel.vacated"], (await patched.ReadJsonAsync()).GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        }

        using (var empty = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"events":[],"description":"not applied"}""", HttpMethod.Patch))
            await WebhookApi.AssertProblemAsync(empty, HttpStatusCode.BadRequest, "invalid_event_type");
        using (var unknown = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"events":["channel.vacated","channel.closed"]}""", HttpMethod.Patch))
            await WebhookApi.AssertProblemAsync(unknown, HttpStatusCode.BadRequest, "invalid_event_type");
        var kept = await api.GetJsonAsync($"v1/webhooks/subscriptions/{id}");
        Assert.Equal(["channel.vacated"], kept.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.False(kept.TryGetProperty("description", out _));
        await DeleteAllAsync(api);
    }

    [Fact]
    public async Task The_subscription_limit_refuses_one_more_than_configured()
    {
        using var api = server.CreateClient();
        for (var i = 0; i < 3; i++)
            await api.SubscribeAsync($"https://example.com/{i}", ["a:b"]);
        using (var fourth = await api.PostJsonAsync("v1/webhooks/subscriptions", """{"url":"https://example.com/4","channels":["a:b"]}"""))
            await WebhookApi.AssertProblemAsync(fourth, HttpStatusCode.Conflict, "too_many_subscriptions");
        Assert.Equal(3, (await api.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").GetArrayLength());
        await DeleteAllAsync(api);
    }

    [Fact]
    public async Task Every_webhook_endpoint_needs_a_server_API_key()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var wrong = server.CreateClient(apiKey: "not-the-key");
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Post, "v1/webhooks/subscriptions"), (HttpMethod.Get, "v1/webhooks/subscriptions"),
            (HttpMethod.Get, "v1/webhooks/subscriptions/sub_x"), (HttpMethod.Patch, "v1/webhooks/subscriptions/sub_x"),
            (HttpMethod.Delete, "v1/webhooks/subscriptions/sub_x"), (HttpMethod.Get, "v1/webhooks/deliveries"),
            (HttpMethod.Get, "v1/webhooks/deliveries/1"), (HttpMethod.Post, "v1/webhooks/deliveries/1/replay"),
        })
        {
            using (var response = await anonymous.PostJsonAsync(path, "{}", method))
                await WebhookApi.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
            using (var response = await wrong.PostJsonAsync(path, "{}", method))
                await WebhookApi.AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
        }
    }

    [Fact]
    public async Task Unknown_subscriptions_and_deliveries_are_404_and_bad_queries_400()
    {
        using var api = server.CreateClient();
        using (var get = await api.GetAsync(new Uri("v1/webhooks/subscriptions/sub_nope", UriKind.Relative)))
            await WebhookApi.AssertProblemAsync(get, HttpStatusCode.NotFound, "subscription_not_found");
        using (var patch = await api.PostJsonAsync("v1/webhooks/subscriptions/sub_nope", """{"enabled":false}""", HttpMethod.Patch))
            await WebhookApi.AssertProblemAsync(patch, HttpStatusCode.NotFound, "subscription_not_found");
        using (var delivery = await api.GetAsync(new Uri("v1/webhooks/deliveries/999", UriKind.Relative)))
            await WebhookApi.AssertProblemAsync(delivery, HttpStatusCode.NotFound, "delivery_not_found");
        using (var replay = await api.PostJsonAsync("v1/webhooks/deliveries/999/replay", "{}"))
            await WebhookApi.AssertProblemAsync(replay, HttpStatusCode.NotFound, "delivery_not_found");

        foreach (var query in new[] { "status=lost", "limit=0", "limit=6", "limit=x", "before=0", "before=-1", "channel=nocolon", "subscription=" })
        {
            using var response = await api.GetAsync(new Uri("v1/webhooks/deliveries?" + query, UriKind.Relative));
            await WebhookApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_query");
        }

        using var atLimit = await api.GetAsync(new Uri("v1/webhooks/deliveries?limit=5", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
    }

    [Fact]
    public async Task A_patch_changes_only_what_it_names_and_refuses_a_new_secret()
    {
        using var api = server.CreateClient();
        var created = await api.SubscribeAsync("https://example.com/p", ["a:b"]);
        var id = created.GetProperty("id").GetString()!;

        using (var patch = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"channels":["c:*"],"ordered":true}""", HttpMethod.Patch))
        {
            var updated = await patch.ReadJsonAsync();
            Assert.Equal(["c:*"], updated.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
            Assert.True(updated.GetProperty("ordered").GetBoolean());
            Assert.Equal("https://example.com/p", updated.GetProperty("url").GetString());
            Assert.True(updated.GetProperty("enabled").GetBoolean());
            Assert.False(updated.TryGetProperty("secret", out _));
        }

        using (var secret = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", $$"""{"secret":"whsec_{{Convert.ToBase64String(new byte[32])}}"}""", HttpMethod.Patch))
            await WebhookApi.AssertProblemAsync(secret, HttpStatusCode.BadRequest, "invalid_body");
        using (var url = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", """{"url":"gopher://x"}""", HttpMethod.Patch))
            await WebhookApi.AssertProblemAsync(url, HttpStatusCode.BadRequest, "invalid_url");
        await DeleteAllAsync(api);
    }

    [Fact]
    public async Task Deliveries_page_newest_first_with_a_before_cursor()
    {
        await using var local = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Webhooks:Outbound:AllowPrivateTargets"] = "true",
            ["Herald:Webhooks:Outbound:RetrySchedule"] = "10m",
        });
        using var api = local.CreateClient();
        var id = (await api.SubscribeAsync("http://127.0.0.1:9/never", ["page:*"])).GetProperty("id").GetString()!;
        for (var i = 0; i < 7; i++)
        {
            using (await api.PublishAsync("page:" + i, """{"data":0}""")) { }
        }

        var seen = new List<long>();
        long? before = null;
        do
        {
            var page = await api.GetJsonAsync($"v1/webhooks/deliveries?subscription={id}&status=pending&limit=3" + (before is { } b ? $"&before={b}" : ""));
            seen.AddRange(page.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("id").GetInt64()));
            before = page.TryGetProperty("nextBefore", out var next) ? next.GetInt64() : null;
        }
        while (before is not null);

        Assert.Equal(7, seen.Count);
        Assert.Equal(seen.OrderDescending(), seen);
        var channels = (await api.DeliveriesAsync(id)).Select(d => d.GetProperty("channel").GetString());
        Assert.Equal(Enumerable.Range(0, 7).Select(i => "page:" + i), channels);
        var oneChannel = await api.GetJsonAsync("v1/webhooks/deliveries?channel=page:3");
        Assert.Equal("page:3", Assert.Single(oneChannel.GetProperty("deliveries").EnumerateArray()).GetProperty("channel").GetString());
    }

    private static async Task DeleteAllAsync(HttpClient api)
    {
        foreach (var subscription in (await api.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").EnumerateArray())
        {
            using var response = await api.DeleteAsync(new Uri("v1/webhooks/subscriptions/" + subscription.GetProperty("id").GetString(), UriKind.Relative));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
    }
}
