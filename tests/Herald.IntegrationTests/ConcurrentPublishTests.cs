using System.Collections.Concurrent;
using System.Net;

namespace Herald.IntegrationTests;

public sealed class ConcurrentPublishTests
{
    [Fact]
    public async Task Ten_thousand_publishes_from_eight_clients_get_contiguous_offsets_each_message_once_in_assigned_order()
    {
        const int Clients = 8;
        const int PerClient = 1250;
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Herald:DefaultPolicy:HistorySize"] = "20000",
        });

        var assigned = new ConcurrentDictionary<long, string>();
        var publishers = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using var client = server.CreateClient();
            for (var i = 0; i < PerClient; i++)
            {
                var tag = $"c{c}-{i}";
                using var response = await client.PublishAsync("load:one", $$"""{"data":"{{tag}}"}""");
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                var offset = (await response.ReadJsonAsync()).GetProperty("offset").GetInt64();
                Assert.True(assigned.TryAdd(offset, tag), $"offset {offset} was assigned twice");
            }
        }));
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromMinutes(5));

        using var reader = server.CreateClient();
        var history = await reader.ReadAllAsync("load:one");
        Assert.Equal(Clients * PerClient, history.Count);
        for (var i = 0; i < history.Count; i++)
        {
            var offset = history[i].GetProperty("offset").GetInt64();
            Assert.Equal(i + 1, offset);
            Assert.Equal(assigned[offset], history[i].GetProperty("data").GetString());
        }

        Assert.Equal(Clients * PerClient, history.Select(p => p.GetProperty("data").GetString()).Distinct().Count());

        // Each client's own messages appear in the order it sent them.
        for (var c = 0; c < Clients; c++)
        {
            var mine = history.Select(p => p.GetProperty("data").GetString()!).Where(t => t.StartsWith($"c{c}-", StringComparison.Ordinal))
                .Select(t => int.Parse(t[(t.IndexOf('-', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, PerClient), mine);
        }
    }
}
