using System.Net;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.Testing;

namespace Herald.IntegrationTests.Redis;

/// <summary>
/// Redis goes away: publishes answer <c>503 engine_unavailable</c> with <c>Retry-After</c> and store
/// nothing, <c>/readyz</c> says not ready, connected clients stay connected; when Redis is back the
/// retried publish (same idempotency key) is stored exactly once and reaches them.
/// </summary>
public sealed class RedisUnavailableTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync("always");
        _server = await TestServer.StartAsync("redis", new Dictionary<string, string?>
        {
            ["Herald:Redis:Configuration"] = _redis.Configuration,
            ["Herald:Node:TopCheckInterval"] = "00:00:00.500",
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task While_redis_is_down_publishes_are_refused_with_503_and_after_it_returns_the_retry_is_stored_once_and_delivered()
    {
        const string channel = "news:outage";
        using var client = _server.CreateClient();
        using (var before = await client.PublishAsync(channel, """{"data":1}""", idempotencyKey: "k1"))
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);
        await using var sse = await PushClient.ConnectAsync(client, "sse", [channel], cursor: null);
        await sse.ExpectAsync("subscribed");

        _redis.Kill();
        using (var refused = await client.PublishAsync(channel, """{"data":2}""", idempotencyKey: "k2"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("engine_unavailable", problem.GetProperty("code").GetString());
        }

        using (var ready = await client.GetAsync("readyz").WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        // Reads too: a documented 503 with Retry-After, not a 500.
        foreach (var read in (string[])[$"v1/channels/{channel}/messages", $"v1/poll?channel={channel}&wait=0"])
        {
            using var refusedRead = await client.GetAsync(read).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedRead.StatusCode);
            Assert.NotNull(refusedRead.Headers.RetryAfter);
            var problem = JsonDocument.Parse(await refusedRead.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("engine_unavailable", problem.GetProperty("code").GetString());
        }

        await _redis.RestartAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HttpResponseMessage retried;
        while (true)
        {
            retried = await client.PublishAsync(channel, """{"data":2}""", idempotencyKey: "k2");
            if (retried.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                break;
            retried.Dispose();
            await Task.Delay(200);
        }

        using (retried)
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        using (var again = await client.PublishAsync(channel, """{"data":2}""", idempotencyKey: "k2"))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var delivered = await sse.ExpectAsync("publication");
        Assert.Equal(2, delivered.Offset);
        var history = await client.ReadAllAsync(channel);
        Assert.Equal([1L, 2L], history.Select(p => p.GetProperty("offset").GetInt64()));
        using var readyAgain = await client.GetAsync("readyz").WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task A_node_configured_with_another_partition_count_than_the_data_refuses_to_publish_and_is_not_ready()
    {
        using (var client = _server.CreateClient())
        using (var first = await client.PublishAsync("news:layout", """{"data":1}"""))
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        await using var other = await TestServer.StartAsync("redis", new Dictionary<string, string?>
        {
            ["Herald:Redis:Configuration"] = _redis.Configuration,
            ["Herald:Redis:Partitions"] = "64",
        });
        using var otherClient = other.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HttpResponseMessage ready;
        while (true)
        {
            ready = await otherClient.GetAsync("readyz").WaitAsync(HttpJson.Timeout);
            if (ready.StatusCode == HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                break;
            ready.Dispose();
            await Task.Delay(100);
        }

        using (ready)
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using (var refused = await otherClient.PublishAsync("news:layout", """{"data":2}"""))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("engine_unavailable", problem.GetProperty("code").GetString());
            Assert.Contains("partitions", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var client2 = _server.CreateClient();
        var history = await client2.ReadAllAsync("news:layout");
        Assert.Equal([1L], history.Select(p => p.GetProperty("offset").GetInt64()));
    }
}
