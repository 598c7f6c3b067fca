using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace Herald.IntegrationTests;

public sealed class CrashDurabilityTests
{
    private const string Channel = "orders:crash";

    [Fact]
    public async Task Every_acknowledged_publish_survives_repeated_SIGKILL_with_contiguous_offsets_and_the_same_epoch()
    {
        const int Kills = 5;
        var data = TempDirectory.Create();
        var acknowledged = new ConcurrentDictionary<long, string>();
        string? epoch = null;
        try
        {
            for (var round = 0; round < Kills; round++)
            {
                await using var server = await HeraldProcess.StartAsync(data, "--Herald:ApiKeys:0=" + TestServer.ApiKey, "--Herald:DefaultPolicy:HistorySize=1000000");
                using var client = CreateClient(server);

                // What was acknowledged before the last kill is all there, in place.
                var history = await client.ReadAllAsync(Channel);
                AssertContiguousAndHolds(history, acknowledged);
                if (history.Count > 0)
                    epoch ??= history[0].GetProperty("epoch").GetString();
                Assert.All(history, p => Assert.Equal(epoch, p.GetProperty("epoch").GetString()));

                // Publish from four clients until at least 200 more are acknowledged, then kill mid-stream.
                using var stop = new CancellationTokenSource();
                var before = acknowledged.Count;
                var publishers = Enumerable.Range(0, 4).Select(p => PublishUntilCancelledAsync(server, round, p, acknowledged, stop.Token)).ToArray();
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (acknowledged.Count < before + 200 && DateTime.UtcNow < deadline)
                    await Task.Delay(10);
                Assert.True(acknowledged.Count >= before + 200, "publishers made no progress");

                await server.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
            }

            await using var last = await HeraldProcess.StartAsync(data, "--Herald:ApiKeys:0=" + TestServer.ApiKey, "--Herald:DefaultPolicy:HistorySize=1000000");
            using var reader = CreateClient(last);
            var final = await reader.ReadAllAsync(Channel);
            AssertContiguousAndHolds(final, acknowledged);
            Assert.All(final, p => Assert.Equal(epoch, p.GetProperty("epoch").GetString()));
            Assert.True(acknowledged.Count >= Kills * 200);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private static void AssertContiguousAndHolds(List<System.Text.Json.JsonElement> history, ConcurrentDictionary<long, string> acknowledged)
    {
        for (var i = 0; i < history.Count; i++)
            Assert.Equal(i + 1, history[i].GetProperty("offset").GetInt64());

        var stored = history.ToDictionary(p => p.GetProperty("offset").GetInt64(), p => p.GetProperty("data").GetString());
        foreach (var (offset, tag) in acknowledged)
        {
            Assert.True(stored.TryGetValue(offset, out var found), $"acknowledged offset {offset} ({tag}) is missing after a crash");
            Assert.Equal(tag, found);
        }
    }

    private static async Task PublishUntilCancelledAsync(HeraldProcess server, int round, int publisher, ConcurrentDictionary<long, string> acknowledged, CancellationToken cancellationToken)
    {
        using var client = CreateClient(server);
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var tag = $"r{round}-p{publisher}-{i}";
            try
            {
                using var response = await client.PublishAsync(Channel, $$"""{"data":"{{tag}}"}""");
                if (!response.IsSuccessStatusCode)
                    continue;
                var offset = (await response.ReadJsonAsync()).GetProperty("offset").GetInt64();
                Assert.True(acknowledged.TryAdd(offset, tag), $"offset {offset} acknowledged twice");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or System.Text.Json.JsonException)
            {
                // The server died under this request: it was never acknowledged.
                return;
            }
        }
    }

    private static HttpClient CreateClient(HeraldProcess server)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        return client;
    }
}
