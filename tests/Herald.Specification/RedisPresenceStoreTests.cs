using Herald.Engine;
using Herald.Presence;
using Herald.Redis;

namespace Herald.Specification;

/// <summary>The presence store spec on Redis, plus what only a store shared by nodes does: sweeping a dead node.</summary>
public sealed class RedisPresenceStoreTests(RedisFixture redis) : PresenceStoreSpec, IClassFixture<RedisFixture>
{
    private readonly RedisEngineOptions _options = RedisFixture.NewOptions();

    protected override Task<(IPresenceStore Store, IBroker Broker)> CreateAsync(TimeProvider time) =>
        Task.FromResult<(IPresenceStore, IBroker)>((new RedisPresenceStore(redis.Connection, _options, time), new RedisBroker(redis.Connection, _options)));

    [Fact]
    public async Task When_a_node_lease_expires_another_node_makes_its_users_leave_and_keeps_the_others()
    {
        const string channel = "room:spec-lease-node";
        var limits = PresenceLimits.Default;
        await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Join, "dead/s1", "alice"), new PresenceChange(PresenceChangeKind.Join, "live/s2", "bob")], limits);
        await Store.MaintainAsync("dead", limits);
        await Store.MaintainAsync("live", limits);

        // "dead" stops renewing; "live" renews every few seconds, as nodes do.
        for (var i = 0; i < 3; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(4));
            Assert.Equal(0, (await Store.MaintainAsync("live", limits)).Leaves);
        }

        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, (await Store.MaintainAsync("live", limits)).Leaves);
        var page = await Store.ReadAsync(channel, null, 10);
        Assert.Equal(["bob"], page.Members.Select(m => m.User));
        Assert.Equal(0, (await Store.OnlineAsync(["alice"]))["alice"]);

        // Swept once: the next round finds nothing.
        Assert.Equal(0, (await Store.MaintainAsync("live", limits)).Leaves);
    }

    [Fact]
    public async Task Two_nodes_sweeping_a_dead_node_at_once_are_told_of_each_leave_and_the_vacancy_once_between_them()
    {
        var limits = PresenceLimits.Default;
        string[] channels = ["room:spec-sweep-1", "room:spec-sweep-2", "room:spec-sweep-3"];
        foreach (var channel in channels)
            await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Join, "dead/s1", "alice"), new PresenceChange(PresenceChangeKind.Join, "dead/s2", "bob")], limits);
        await Store.MaintainAsync("dead", limits);
        Time.Advance(limits.NodeLease + TimeSpan.FromSeconds(1));

        // Two nodes, each with a connection of its own, maintain at the same moment.
        await using var other = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var second = new RedisPresenceStore(other, _options, Time);
        var rounds = await Task.WhenAll(Task.Run(() => Store.MaintainAsync("live-1", limits).AsTask()), Task.Run(() => second.MaintainAsync("live-2", limits).AsTask()));

        var transitions = rounds.SelectMany(r => r.Transitions).ToList();
        Assert.Equal(6, rounds.Sum(r => r.Leaves));
        Assert.Equal(channels.Order(StringComparer.Ordinal), transitions.Where(t => t.Vacated).Select(t => t.Channel).Order(StringComparer.Ordinal));
        foreach (var channel in channels)
            Assert.Equal(["alice", "bob"], transitions.Where(t => t.Channel == channel).SelectMany(t => t.Left).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(transitions, t => t.Occupied || t.Joined.Count > 0);
    }
}
