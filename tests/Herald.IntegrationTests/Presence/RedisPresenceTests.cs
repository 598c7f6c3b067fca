using System.Diagnostics;
using Herald.IntegrationTests.Transports.WebSocket;
using Herald.Testing;

namespace Herald.IntegrationTests.Presence;

/// <summary>Presence across nodes on one Redis: one order of diffs for all, and a killed node's users leave by its lease.</summary>
public sealed class RedisPresenceTests
{
    [Fact]
    public async Task Joins_and_leaves_on_one_node_reach_a_list_subscriber_on_another_and_a_killed_nodes_users_leave_after_its_lease()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Herald:Redis:Configuration"] = redis.Configuration,
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:Namespaces:room:Presence"] = "List",
            ["Herald:Namespaces:room:PresenceLeaveGrace"] = "00:00:01",
            ["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00",
            ["Herald:Node:PresenceLease"] = "00:00:03",
        };
        await using var a = await TestServer.StartAsync("redis", settings);
        var data = TempDirectory.Create();
        try
        {
            await using var b = await HeraldProcess.StartAsync(data, ["--store", "redis", .. settings.Select(s => $"--{s.Key}={s.Value}")]);

            const string channel = "room:nodes";
            await using var alice = await WsClient.ConnectAsync(server: a, bearer: Tokens.Mint("alice"));
            var (state, _) = await alice.SubscribeAsync(channel, "list");
            var seq = state.GetProperty("seq").GetInt64();

            // Bob on the other node: his join reaches alice with the next number.
            var bob = await WsClient.ConnectAsync(b.BaseAddress, Tokens.Mint("bob"));
            await bob.SubscribeAsync(channel, "enter");
            var join = await alice.ExpectAsync("presence");
            Assert.Equal(["bob"], join.Users("join"));
            Assert.Equal(seq, join.GetProperty("from").GetInt64());

            // Carol on alice's node, then gone at once by unsubscribe: numbered after bob's join.
            await using var carol = await WsClient.ConnectAsync(server: a, bearer: Tokens.Mint("carol"));
            await carol.SubscribeAsync(channel, "enter");
            Assert.Equal(["carol"], (await alice.ExpectAsync("presence")).Users("join"));
            await carol.RequestAsync($$"""{"id":9,"op":"unsubscribe","channel":"{{channel}}"}""");
            var carolLeft = await alice.ExpectAsync("presence");
            Assert.Equal(["carol"], carolLeft.Users("leave"));
            Assert.Equal(seq + 2, carolLeft.GetProperty("from").GetInt64());

            // Node B is killed with bob connected: nobody closes his session; the lease does.
            var killed = Stopwatch.StartNew();
            await b.KillAsync();
            var leave = await alice.ExpectAsync("presence");
            Assert.Equal(["bob"], leave.Users("leave"));
            Assert.Equal(seq + 3, leave.GetProperty("from").GetInt64());
            Console.WriteLine($"bob left {killed.Elapsed.TotalSeconds:F1} s after his node was killed (lease 3 s)");
            bob.Abort();
            await bob.DisposeAsync();
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }
}
