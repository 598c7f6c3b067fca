using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class SubscriberListTests
{
    [Fact]
    public async Task Removals_and_compaction_keep_every_live_subscription_exactly_once()
    {
        await using var session = new Session(new TestTransport(), new ChannelHub());
        var list = new SubscriberList();
        var all = Enumerable.Range(0, 1000).Select(_ => new Subscription(session, "chat:a")).ToList();
        foreach (var subscription in all)
            list.Add(subscription);

        for (var i = 0; i < all.Count; i += 2)
            Assert.True(list.Remove(all[i]));
        Assert.False(list.Remove(all[0]));

        var live = Live(list);
        Assert.Equal(500, list.Live);
        Assert.Equal(all.Where((_, i) => i % 2 == 1), live);
    }

    [Fact]
    public async Task A_snapshot_taken_during_churn_holds_every_stable_subscription_once()
    {
        await using var session = new Session(new TestTransport(), new ChannelHub());
        var list = new SubscriberList();
        var gate = new Lock();
        var stable = Enumerable.Range(0, 200).Select(_ => new Subscription(session, "chat:a")).ToList();
        foreach (var subscription in stable)
            list.Add(subscription);

        using var stop = new CancellationTokenSource();
        var churn = Task.Run(() =>
        {
            var transient = new List<Subscription>();
            for (var round = 0; round < 20_000 && !stop.IsCancellationRequested; round++)
            {
                lock (gate)
                {
                    if (round % 3 == 2 && transient.Count > 0)
                    {
                        list.Remove(transient[^1]);
                        transient.RemoveAt(transient.Count - 1);
                    }
                    else
                    {
                        var added = new Subscription(session, "chat:a");
                        list.Add(added);
                        transient.Add(added);
                    }
                }
            }
        });

        while (!churn.IsCompleted)
        {
            (Subscription?[] Items, int Count) snapshot;
            lock (gate)
                snapshot = list.Snapshot;

            // Read outside the lock, as the hub's fan-out does, while the churn goes on.
            var seen = new HashSet<Subscription>(ReferenceEqualityComparer.Instance);
            for (var i = 0; i < snapshot.Count; i++)
            {
                if (snapshot.Items[i] is { } subscription)
                    Assert.True(seen.Add(subscription), "a subscription appeared twice in one snapshot");
            }

            Assert.All(stable, s => Assert.Contains(s, seen));
        }

        await churn.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static List<Subscription> Live(SubscriberList list)
    {
        var (items, count) = list.Snapshot;
        return [.. items.Take(count).OfType<Subscription>()];
    }
}
