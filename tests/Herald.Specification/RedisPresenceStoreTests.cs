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
            Assert.Equal(0, await Store.MaintainAsync("live", limits));
        }

        Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await Store.MaintainAsync("live", limits));
        var page = await Store.ReadAsync(channel, null, 10);
        Assert.Equal(["bob"], page.Members.Select(m => m.User));
        Assert.Equal(0, (await Store.OnlineAsync(["alice"]))["alice"]);

        // Swept once: the next round finds nothing.
        Assert.Equal(0, await Store.MaintainAsync("live", limits));
    }
}
