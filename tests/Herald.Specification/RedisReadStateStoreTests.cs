using System.Net;
using System.Net.Sockets;
using Herald.Engine;
using Herald.Reading;
using Herald.Redis;
using StackExchange.Redis;

namespace Herald.Specification;

/// <summary>The read state spec on a real Redis, plus its key layout: one slot per user, no TTLs, and what a lost connection looks like.</summary>
public sealed class RedisReadStateStoreTests(RedisFixture redis) : ReadStateStoreSpec, IClassFixture<RedisFixture>
{
    private readonly RedisEngineOptions _options = RedisFixture.NewOptions();

    protected override Task<IReadStateStore> CreateAsync() => Task.FromResult<IReadStateStore>(new RedisReadStateStore(redis.Connection, _options));

    [Fact]
    public async Task A_users_keys_share_one_hash_slot_carry_no_ttl_and_live_under_the_prefix()
    {
        string[] users = ["alice", "a}b{c", "用户"];
        foreach (var user in users)
        {
            await Set(user, "chat:a", new ReadMarker(E1, 3, 3, Noon));
            await Mention("chat:b", [user], new Position(E1, 4));
            await SetReceipt(user, "chat:a", new ReadMarker(E1, 3, 3, Noon), MarkerWrite.Delivered);
        }

        var server = redis.Connection.GetServer(redis.Connection.GetEndPoints()[0]);
        var keys = server.Keys(pattern: _options.Prefix + ":*").ToList();
        // Per user: channels, markers, mentions, receipts; per channel: its members.
        Assert.Equal((users.Length * 4) + 2, keys.Count);
        var db = redis.Connection.GetDatabase();
        foreach (var user in users)
        {
            var own = ((RedisReadStateStore)Store).Keys(user);
            Assert.All(own, key => Assert.Contains(key, keys));
            Assert.Single(own.Select(key => redis.Connection.HashSlot(key)).Distinct());
        }

        foreach (var key in keys)
            Assert.Null(await db.KeyTimeToLiveAsync(key).WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_unreachable_redis_surfaces_as_engine_unavailable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        // Fail fast, as the engine configures its connection (RedisEngine): nothing waits in a backlog.
        var configuration = ConfigurationOptions.Parse($"127.0.0.1:{port},abortConnect=false,connectTimeout=500");
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        await using var nowhere = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(Timeout);
        var store = new RedisReadStateStore(nowhere, _options);

        await Assert.ThrowsAsync<EngineUnavailableException>(() => store.SetMarkerAsync("alice", "chat:a", new ReadMarker(E1, 1, 1, Noon), MarkerWrite.Read).AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<EngineUnavailableException>(() => store.GetAsync("alice", null, 10).AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<EngineUnavailableException>(() => store.MentionAsync("chat:a", ["alice", "bob"], new Position(E1, 1), 10).AsTask().WaitAsync(Timeout));
    }
}
