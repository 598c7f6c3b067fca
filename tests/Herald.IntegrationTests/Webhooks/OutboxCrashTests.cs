using System.Net.Http.Headers;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>The outbox across a SIGKILL of the real <c>herald</c> process, on SQLite.</summary>
public sealed class OutboxCrashTests
{
    private const int Publications = 300;

    [Fact]
    public async Task Deliveries_pending_at_a_SIGKILL_are_all_delivered_after_restart_and_duplicates_repeat_their_webhook_id()
    {
        var data = TempDirectory.Create();
        await using var receiver = await WebhookReceiver.StartAsync();
        string[] args =
        [
            "--Herald:ApiKeys:0=" + TestServer.ApiKey,
            "--Herald:Webhooks:Outbound:AllowPrivateTargets=true",
            "--Herald:Webhooks:Outbound:RetrySchedule=0s,500ms,500ms,500ms,500ms,500ms,500ms,500ms",
            // Two at a time, 20 ms each: about 100 deliveries/s, so most are still pending when the server dies.
            "--Herald:Webhooks:Outbound:MaxConcurrencyPerSubscription=2",
        ];
        try
        {
            receiver.Delay = TimeSpan.FromMilliseconds(20);
            string secret;
            await using (var first = await HeraldProcess.StartAsync(data, args))
            {
                using var api = CreateClient(first);
                secret = (await api.SubscribeAsync(receiver.Url("crash"), ["orders:*"])).GetProperty("secret").GetString()!;
                await Task.WhenAll(Enumerable.Range(0, 4).Select(async publisher =>
                {
                    for (var i = publisher; i < Publications; i += 4)
                    {
                        using var response = await api.PublishAsync("orders:crash", $$"""{"data":{{i}}}""");
                        Assert.True(response.IsSuccessStatusCode, $"publish {i} answered {(int)response.StatusCode}");
                    }
                }));

                await receiver.WaitUntilAsync(r => r.Count >= 20, TimeSpan.FromSeconds(30), "the first deliveries");
                await first.KillAsync();
            }

            var beforeRestart = receiver.All.Count;
            Assert.True(beforeRestart < Publications, $"everything ({beforeRestart}) was delivered before the kill; nothing was pending");

            receiver.Delay = TimeSpan.Zero;
            await using var second = await HeraldProcess.StartAsync(data, args);
            await receiver.WaitUntilAsync(
                r => r.Where(x => x.AnsweredWith == 200).Select(x => x.Offset).Distinct().Count() == Publications,
                TimeSpan.FromSeconds(60),
                $"all {Publications} publications delivered");

            var received = receiver.All.ToList();
            Assert.Equal(Enumerable.Range(1, Publications).Select(i => (long)i), received.Select(r => r.Offset).Distinct().Order());
            Assert.All(received, r => Assert.True(WebhookApi.SignatureVerifies(r, secret), $"offset {r.Offset}: bad signature"));
            // A duplicate is the same delivery again: one webhook-id per offset, one offset per webhook-id.
            foreach (var group in received.GroupBy(r => r.Offset))
                Assert.Single(group.Select(r => r.Id).Distinct());
            Assert.Equal(Publications, received.Select(r => r.Id).Distinct().Count());

            // And the outbox agrees: every delivery is recorded as delivered (the last records may trail the receiver by a commit).
            using var api2 = CreateClient(second);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var page = await api2.GetJsonAsync("v1/webhooks/deliveries?status=delivered&limit=1000");
                var delivered = page.GetProperty("deliveries").GetArrayLength();
                if (delivered == Publications || DateTime.UtcNow > deadline)
                {
                    Assert.Equal(Publications, delivered);
                    break;
                }

                await Task.Delay(50);
            }
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private static HttpClient CreateClient(HeraldProcess server)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        return client;
    }
}
