using Herald.Testing.Cluster;
using Xunit.Abstractions;

namespace Herald.IntegrationTests.Redis;

/// <summary>Runs alone: three herald processes and a redis-server would skew other classes' timing.</summary>
[CollectionDefinition(nameof(ClusterChaos), DisableParallelization = true)]
public sealed class ClusterChaos;

/// <summary>
/// The short chaos runs (the long ones: <c>bench/Herald.Chaos</c>, figures in docs/scaling.md):
/// three real herald processes on a real Redis behind a non-sticky round-robin proxy, subscribers on
/// every transport spread over the nodes, publishers on random nodes retrying with their
/// idempotency keys — while nodes and Redis are killed.
/// </summary>
[Collection(nameof(ClusterChaos))]
public sealed class ClusterChaosTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Node_kills_a_redis_restart_on_an_always_fsynced_aof_and_a_pubsub_kill_lose_gap_duplicate_and_reset_nothing()
    {
        var totals = await ChaosRun.RunAsync(new ChaosOptions
        {
            Channels = 20,
            Publishes = 1500,
            Rate = 100,
            Publishers = 8,
            SubscribersPerTransport = 2,
            ChannelsPerSubscriber = 10,
            Fsync = "always",
            NodeKills = 2,
            RedisRestarts = 1,
            PubSubKills = 1,
            Log = output.WriteLine,
        }).WaitAsync(TimeSpan.FromMinutes(8));

        Assert.Equal(1500, totals.Acknowledged);
        Assert.True(totals.Deliveries > 1500, $"{totals.Deliveries} deliveries");
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (totals.LostByEngine, totals.Missing, totals.Gaps, totals.Duplicates, totals.Mismatches));
        Assert.Equal(0, totals.ResetCount);
    }

    // Two rollbacks and a node kill: the second restore may bring a partition back in the era it had
    // before the first rotation (its copy was taken before it), which only the era's generation
    // tells; the restarted node knows nothing, and must learn it from the others before it writes.
    // HERALD_CHAOS_LOGS=dir keeps each node's log there.
    [Fact]
    public async Task Redis_rolled_back_to_an_older_copy_loses_publishes_and_every_affected_subscriber_is_reset_never_silently()
    {
        var totals = await ChaosRun.RunAsync(new ChaosOptions
        {
            Channels = 10,
            Publishes = 1200,
            Rate = 100,
            Publishers = 4,
            SubscribersPerTransport = 1,
            ChannelsPerSubscriber = 10,
            Fsync = "always",
            Rollbacks = 2,
            NodeKills = 1,
            Log = output.WriteLine,
            NodeLogDirectory = Environment.GetEnvironmentVariable("HERALD_CHAOS_LOGS"),
        }).WaitAsync(TimeSpan.FromMinutes(8));

        foreach (var example in totals.Examples)
            output.WriteLine(example);

        Assert.True(totals.LostByEngine > 0, "the rollback lost acknowledged publishes");
        Assert.True(totals.ResetCount > 0, "and told the subscribers");
        Assert.Equal((0L, 0L, 0L, 0L), (totals.Missing, totals.Gaps, totals.Duplicates, totals.Mismatches));
    }
}
