using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Herald.IntegrationTests.Webhooks;
using Herald.Testing;
using Xunit.Abstractions;

namespace Herald.IntegrationTests.Redis;

/// <summary>
/// The chaos item of issue 14: two real <c>herald</c> processes on one redis-server, publishing
/// to both, and one of them SIGKILLed while it delivers webhooks. Every acknowledged publication
/// is still delivered — by the survivor, once the dead node's leases run out — and signed right.
/// </summary>
public sealed class RedisOutboxCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_SIGKILLed_while_it_delivers_loses_no_acknowledged_publication_and_duplicates_repeat_their_webhook_id()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var dataA = TempDirectory.Create();
        var dataB = TempDirectory.Create();
        string[] args =
        [
            "--store", "redis",
            "--redis", redis.Configuration,
            "--Herald:ApiKeys:0=" + TestServer.ApiKey,
            "--Herald:Webhooks:Outbound:AllowPrivateTargets=true",
            "--Herald:Webhooks:Outbound:RetrySchedule=0s,500ms,500ms,500ms,500ms,500ms,500ms,500ms",
            "--Herald:Webhooks:Outbound:AttemptTimeout=00:00:02",
            // Three seconds: the survivor takes the dead node's deliveries over soon after the kill.
            "--Herald:Redis:WebhookLease=00:00:03",
            // Two at a time, 30 ms each: about 65 deliveries/s per node, so most are still pending or in flight at the kill.
            "--Herald:Webhooks:Outbound:MaxConcurrencyPerSubscription=2",
        ];
        try
        {
            receiver.Delay = TimeSpan.FromMilliseconds(30);
            await using var a = await HeraldProcess.StartAsync(dataA, args);
            await using var b = await HeraldProcess.StartAsync(dataB, args);
            using var apiA = CreateClient(a);
            using var apiB = CreateClient(b);
            var secret = (await apiB.SubscribeAsync(receiver.Url("crash"), ["orders:*"])).GetProperty("secret").GetString()!;
            var acknowledged = new ConcurrentDictionary<(string Channel, long Offset), byte>();
            // One publish on each first: a cold process on a busy machine answers its first ones slowly.
            await PublishAsync(apiA, "orders:a", 1, acknowledged, () => false, CancellationToken.None);
            await PublishAsync(apiB, "orders:b", 1, acknowledged, () => false, CancellationToken.None);

            using var stopB = new CancellationTokenSource();
            var killed = 0;
            var publishingA = Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PublishAsync(apiA, "orders:a", 150, acknowledged, () => Volatile.Read(ref killed) != 0, CancellationToken.None)));
            var publishingB = PublishAsync(apiB, "orders:b", int.MaxValue, acknowledged, () => false, stopB.Token, pace: TimeSpan.FromMilliseconds(20));

            // Killed once it has acknowledged a good part of its publications and delivers them.
            await WaitAsync(() => acknowledged.Keys.Count(k => k.Channel == "orders:a") >= 100, "100 publications acknowledged by node A");
            await receiver.WaitUntilAsync(r => r.Count(x => x.Path == "crash" && x.Json.GetProperty("channel").GetString() == "orders:a") >= 10, TimeSpan.FromSeconds(60), "node A's first deliveries");
            Volatile.Write(ref killed, 1);
            await a.KillAsync();
            await publishingA.WaitAsync(TimeSpan.FromSeconds(60));
            var ackedA = acknowledged.Keys.Count(k => k.Channel == "orders:a");
            var deliveredA = receiver.All.Where(r => r.Json.GetProperty("channel").GetString() == "orders:a").Select(r => r.Offset).Distinct().Count();
            Assert.True(deliveredA < ackedA, $"all {ackedA} publications acknowledged by the killed node were delivered before the kill; none was left to take over");

            // The survivor goes on publishing and delivering after the kill.
            var atKill = acknowledged.Keys.Count(k => k.Channel == "orders:b");
            await WaitAsync(() => acknowledged.Keys.Count(k => k.Channel == "orders:b") >= atKill + 50, "50 more publications on the survivor");
            await stopB.CancelAsync();
            await publishingB.WaitAsync(TimeSpan.FromSeconds(60));

            var expected = acknowledged.Keys.ToHashSet();
            await receiver.WaitUntilAsync(
                r => expected.IsSubsetOf(r.Where(x => x.AnsweredWith == 200).Select(Key)),
                TimeSpan.FromSeconds(120),
                $"all {expected.Count} acknowledged publications delivered");

            var received = receiver.All.ToList();
            Assert.All(received, r => Assert.True(WebhookApi.SignatureVerifies(r, secret), $"{Key(r)}: bad signature"));
            // A duplicate is the same delivery again: one webhook-id per publication, one publication per webhook-id.
            foreach (var group in received.GroupBy(Key))
                Assert.Single(group.Select(r => r.Id).Distinct());
            foreach (var group in received.GroupBy(r => r.Id))
                Assert.Single(group.Select(Key).Distinct());
            var duplicates = received.Count(r => r.AnsweredWith == 200) - received.Where(r => r.AnsweredWith == 200).Select(Key).Distinct().Count();
            output.WriteLine($"{expected.Count} acknowledged ({ackedA} on the killed node, {deliveredA} of them delivered before the kill); {received.Count} requests, {duplicates} duplicates.");

            // And the survivor's outbox agrees: nothing is left pending (the last records may trail the receiver).
            await WaitAsync(async () => (await apiB.GetJsonAsync("v1/webhooks/deliveries?status=pending&limit=10")).GetProperty("deliveries").GetArrayLength() == 0, "no delivery pending");
            var delivered = await apiB.GetJsonAsync("v1/webhooks/deliveries?status=delivered&limit=1000");
            Assert.True(delivered.GetProperty("deliveries").GetArrayLength() >= expected.Count);
        }
        finally
        {
            TempDirectory.Delete(dataA);
            TempDirectory.Delete(dataB);
        }
    }

    private static (string Channel, long Offset) Key(ReceivedWebhook r) => (r.Json.GetProperty("channel").GetString()!, r.Offset);

    /// <summary>Publishes until <paramref name="count"/> or <paramref name="stop"/>; a failure ends it quietly once <paramref name="killed"/> (its node is gone).</summary>
    private static async Task PublishAsync(HttpClient api, string channel, int count, ConcurrentDictionary<(string, long), byte> acknowledged, Func<bool> killed, CancellationToken stop, TimeSpan pace = default)
    {
        for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
        {
            if (pace > TimeSpan.Zero)
                await Task.Delay(pace, CancellationToken.None);
            HttpResponseMessage response;
            try
            {
                response = await api.PublishAsync(channel, $$"""{"data":{{i}}}""");
            }
            catch (Exception e) when (killed() && e is HttpRequestException or TaskCanceledException or TimeoutException)
            {
                return;
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode && killed())
                    return;
                Assert.True(response.IsSuccessStatusCode, $"publish {i} on {channel} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                acknowledged.TryAdd((channel, (await response.ReadJsonAsync()).GetProperty("offset").GetInt64()), 0);
            }
        }
    }

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within 60 s");
            await Task.Delay(50);
        }
    }

    private static HttpClient CreateClient(HeraldProcess server)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        return client;
    }
}
