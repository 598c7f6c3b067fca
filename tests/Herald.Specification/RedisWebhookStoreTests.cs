using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Redis;
using Herald.Webhooks.Outbound;
using StackExchange.Redis;

namespace Herald.Specification;

/// <summary>
/// The webhook store specification on a real redis-server, and what only several nodes sharing one
/// Redis can show: subscriptions seen by every node at once, each due delivery taken by one node,
/// leases that pass a dead node's deliveries to a live one, and XAUTOCLAIM of outbox entries a
/// materialization left behind. Each node is a connection of its own, as a process would have.
/// </summary>
public sealed class RedisWebhookStoreTests(RedisFixture redis) : WebhookStoreSpec, IClassFixture<RedisFixture>
{
    private static readonly IReadOnlySet<long> s_none = new HashSet<long>();

    private readonly RedisEngineOptions _options = WithLease(RedisFixture.NewOptions());
    private readonly List<IAsyncDisposable> _nodes = [];

    private long Lease => (long)_options.WebhookLease.TotalMilliseconds;

    [Fact]
    public async Task A_subscription_created_on_one_node_is_matched_at_once_by_an_append_on_another_without_its_change_message()
    {
        var a = NewStores();
        var b = await NodeAsync();
        await Append(b.Stores, "a:x", "0");
        // Node B hears of no change: only the version in every partition can tell its append.
        await WaitSubscribedAsync(b);
        await b.Connection.GetSubscriber().UnsubscribeAllAsync().WaitAsync(Timeout);

        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10).AsTask().WaitAsync(Timeout);
        Assert.NotEqual(((RedisWebhookStore)a.Outbox).Current.Version, b.Store.Current.Version);
        var publication = await Append(b.Stores, "a:x", "1");

        var delivery = Assert.Single((await Due(b.Stores, "sub_a")).Due);
        Assert.Equal("msg_" + publication.Id, delivery.WebhookId);
        Assert.Equal(((RedisWebhookStore)a.Outbox).Current.Version, b.Store.Current.Version);
    }

    [Fact]
    public async Task A_subscription_change_on_one_node_reaches_the_delivery_worker_of_another()
    {
        var a = NewStores();
        var listener = new RecordingListener();
        var b = await NodeAsync(listener);
        await WaitSubscribedAsync(b);

        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10).AsTask().WaitAsync(Timeout);
        await WaitUntilAsync(() => listener.Changes >= 1, "node B told of the new subscription");
        Assert.Equal(((RedisWebhookStore)a.Outbox).Current.Version, b.Store.Current.Version);

        await a.Subscriptions.UpdateAsync("sub_a", new SubscriptionPatch(Enabled: false)).AsTask().WaitAsync(Timeout);
        await WaitUntilAsync(() => listener.Changes >= 2, "node B told of the change");
        Assert.False((await b.Store.GetAsync("sub_a"))!.Enabled);
    }

    [Fact]
    public async Task Each_due_delivery_is_taken_by_one_node_only()
    {
        var a = NewStores();
        var b = await NodeAsync();
        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        for (var i = 0; i < 60; i++)
            await Append(i % 2 == 0 ? a : b.Stores, "a:" + (i % 7), "0");

        // Each node takes as its delivery worker does: a few at a time, passing what it holds as claimed.
        var takers = new[] { a.Outbox, b.Store }.Select(outbox => Task.Run(async () =>
        {
            var taken = new HashSet<long>();
            while (true)
            {
                var batch = await outbox.TakeDueAsync("sub_a", false, NowMs, 4, taken).AsTask().WaitAsync(Timeout);
                if (batch.Due.Count == 0)
                    return taken;
                foreach (var delivery in batch.Due)
                    Assert.True(taken.Add(delivery.Id), $"delivery {delivery.Id} taken twice by one node");
            }
        })).ToList();
        var sets = await Task.WhenAll(takers).WaitAsync(Timeout);

        Assert.Empty(sets[0].Intersect(sets[1]));
        Assert.Equal(60, sets[0].Count + sets[1].Count);
        var all = await a.Outbox.ListAsync(new DeliveryQuery("sub_a", null, null, null, 100));
        Assert.Equal(all.Deliveries.Select(d => d.Id).Order(), sets[0].Concat(sets[1]).Order());
    }

    [Fact]
    public async Task Deliveries_a_dead_node_took_are_taken_by_another_when_its_lease_runs_out()
    {
        var a = await NodeAsync();
        var b = NewStores();
        await b.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        for (var i = 0; i < 5; i++)
            await Append(a.Stores, "a:x", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var taken = (await Due(a.Stores, "sub_a")).Due;
        Assert.Equal(5, taken.Count);

        // Node A dies in the middle of its attempts: its connection is gone, nothing is recorded or given back.
        await a.Connection.CloseAsync(allowCommandsToComplete: false).WaitAsync(Timeout);

        var leased = await Due(b, "sub_a");
        Assert.Empty(leased.Due);
        Assert.Equal(NowMs + Lease, leased.NextDueMs);
        Time.Advance(TimeSpan.FromMilliseconds(Lease - 1));
        Assert.Empty((await Due(b, "sub_a")).Due);

        Time.Advance(TimeSpan.FromMilliseconds(1));
        var again = (await Due(b, "sub_a")).Due;
        Assert.Equal(taken.Select(d => (d.Id, d.WebhookId, d.Attempts)), again.Select(d => (d.Id, d.WebhookId, d.Attempts)));
        Assert.Equal(taken.Select(d => Encoding.UTF8.GetString(d.Body.Span)), again.Select(d => Encoding.UTF8.GetString(d.Body.Span)));

        await Record(b, again[0], 200, DeliveryStatus.Delivered, NowMs);
        Assert.Equal(DeliveryStatus.Delivered, (await b.Outbox.GetAsync(again[0].Id))!.Status);
    }

    [Fact]
    public async Task A_live_node_keeps_its_deliveries_by_renewing_and_a_record_ends_its_lease()
    {
        var a = NewStores();
        var b = await NodeAsync();
        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        for (var i = 0; i < 3; i++)
            await Append(a, "a:x", "0");
        var taken = (await Due(a, "sub_a")).Due;
        Assert.Equal(3, taken.Count);

        for (var round = 0; round < 3; round++)
        {
            Time.Advance(TimeSpan.FromMilliseconds(Lease * 2 / 3));
            await ((RedisWebhookStore)a.Outbox).RenewLeasesAsync().WaitAsync(Timeout);
            Assert.Empty((await Due(b.Stores, "sub_a")).Due);
        }

        // A failed attempt's record gives the delivery back, due at its next attempt, to any node.
        await Record(a, taken[1], 503, DeliveryStatus.Pending, NowMs);
        var retried = Assert.Single((await Due(b.Stores, "sub_a")).Due);
        Assert.Equal((taken[1].Id, 1, 1), (retried.Id, retried.Attempts, retried.TotalAttempts));
    }

    [Fact]
    public async Task A_late_record_does_not_land_on_another_delivery_that_got_the_same_id_after_Redis_lost_its_data()
    {
        var a = NewStores();
        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(a, "a:x", "0");
        var taken = Assert.Single((await Due(a, "sub_a")).Due);

        // As if Redis came back empty and the id was given to the delivery of another publication.
        var db = redis.Connection.GetDatabase();
        await db.HashSetAsync(_options.Prefix + ":{w}:d:" + taken.Id, [new HashEntry("i", "another"), new HashEntry("w", "")]).WaitAsync(Timeout);

        await Record(a, taken, 200, DeliveryStatus.Delivered, NowMs);
        var stored = await a.Outbox.GetAsync(taken.Id);
        Assert.Equal(DeliveryStatus.Pending, stored!.Status);
        Assert.Empty(stored.Attempts);
    }

    [Fact]
    public async Task Outbox_entries_left_pending_by_an_unfinished_materialization_are_taken_over_with_XAUTOCLAIM()
    {
        var a = NewStores();
        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        var keys = new RedisKeys(_options.Prefix, _options.Partitions);
        var stream = keys.Outbox(keys.PartitionOf("a:x"));
        var db = redis.Connection.GetDatabase();

        // As if a node read the entry (XREADGROUP) and died before making its delivery.
        var entry = (RedisResult[])(await db.ScriptEvaluateAsync(
            """
            pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], 'workers', '$', 'MKSTREAM')
            local id = redis.call('XADD', KEYS[1], '*', 's', 'sub_a', 'c', 'a:x', 'o', 7, 'e', 'ep0ch', 't', ARGV[1],
              'i', 'pub0001', 'f', 'alice', 'y', 'note', 'm', '', 'd', '{"n":7}')
            redis.call('XREADGROUP', 'GROUP', 'workers', 'dead-node', 'COUNT', 10, 'STREAMS', KEYS[1], '>')
            return { id, redis.call('XPENDING', KEYS[1], 'workers') }
            """,
            [stream],
            [NowMs]).WaitAsync(Timeout))!;
        Assert.Equal(1, (long)((RedisResult[])entry[1]!)[0]);

        // The lease (1 s here) passes on Redis's clock; the store's pump finds the entry waiting and claims it.
        var due = await WaitForDueAsync(a, "sub_a");
        var delivery = Assert.Single(due);
        Assert.Equal("msg_pub0001", delivery.WebhookId);
        using (var body = JsonDocument.Parse(delivery.Body))
        {
            Assert.Equal("a:x", body.RootElement.GetProperty("channel").GetString());
            Assert.Equal(7, body.RootElement.GetProperty("offset").GetInt64());
            Assert.Equal("alice", body.RootElement.GetProperty("from").GetString());
            Assert.Equal(7, body.RootElement.GetProperty("data").GetProperty("n").GetInt32());
        }

        Assert.Equal(0, await db.StreamLengthAsync(stream).WaitAsync(Timeout));
        Assert.Empty(await db.StreamConsumerInfoAsync(stream, "workers").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Presence_events_of_a_node_that_missed_a_subscription_change_are_matched_against_the_current_subscriptions()
    {
        var a = NewStores();
        var b = await NodeAsync();
        await WaitSubscribedAsync(b);
        await b.Connection.GetSubscriber().UnsubscribeAllAsync().WaitAsync(Timeout);

        await a.Subscriptions.CreateAsync(Subscription("sub_a", ["room:*"], events: [WebhookEventTypes.ChannelOccupied]), 10).AsTask().WaitAsync(Timeout);
        Assert.False(b.Store.Routes.HasEvents);
        var occupied = new WebhookEvent(WebhookEvent.NewId(), WebhookEventTypes.ChannelOccupied, "room:x", Encoding.UTF8.GetBytes("""{"type":"channel.occupied","channel":"room:x","time":"2026-01-01T00:00:00Z"}"""));
        Assert.Equal(1, await b.Store.EnqueueEventsAsync([occupied]).AsTask().WaitAsync(Timeout));

        Assert.True(b.Store.Routes.HasEvents);
        var delivery = Assert.Single((await Due(b.Stores, "sub_a")).Due);
        Assert.Equal("evt_" + occupied.Id, delivery.WebhookId);
    }

    [Fact]
    public void A_subscription_stored_before_event_types_existed_receives_publications_only()
    {
        var old = RedisWebhookStore.Parse("""
            {"id":"sub_old","url":"https://example.com/x","channels":["a:*"],"secret":"whsec_x","enabled":true,"ordered":false,"createdAt":1,"updatedAt":2}
            """);
        Assert.Equal([WebhookEventTypes.Publication], old.Events);
        var stored = RedisWebhookStore.Parse(RedisWebhookStore.Serialize(old with { Events = [WebhookEventTypes.PresenceLeave] }));
        Assert.Equal([WebhookEventTypes.PresenceLeave], stored.Events);
    }

    private protected override WebhookStores Open(OutboxSignal signal) => Open(redis.Connection, signal).Stores;

    private static RedisEngineOptions WithLease(RedisEngineOptions options)
    {
        // Time is manual here except on Redis's own clock (XAUTOCLAIM's idle time): 1 s keeps that test short.
        options.WebhookLease = TimeSpan.FromSeconds(1);
        return options;
    }

    private Node Open(IConnectionMultiplexer connection, OutboxSignal signal)
    {
        var store = new RedisWebhookStore(connection, _options, Options, signal, Time);
        var log = new RedisChannelLog(connection, _options, store, Time) { Outbox = store };
        return new Node(connection, store, new WebhookStores(log, store, store, new Disposer(store)));
    }

    /// <summary>Another node: a connection of its own, disposed with the test.</summary>
    private async Task<Node> NodeAsync(RecordingListener? listener = null)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration).WaitAsync(Timeout);
        var node = Open(connection, new OutboxSignal { Listener = listener ?? new RecordingListener() });
        _nodes.Add(node);
        return node;
    }

    protected override async Task CleanupAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    private async Task<IReadOnlyList<DueDelivery>> WaitForDueAsync(WebhookStores s, string subscription)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var batch = await s.Outbox.TakeDueAsync(subscription, false, NowMs, 10, s_none).AsTask().WaitAsync(Timeout);
            if (batch.Due.Count > 0)
                return batch.Due;
            Assert.True(DateTime.UtcNow < deadline, $"no delivery of {subscription} within {Timeout}");
            await Task.Delay(100);
        }
    }

    private Task WaitSubscribedAsync(Node node) =>
        WaitUntilAsync(() => node.Connection.GetSubscriber().SubscribedEndpoint(RedisChannel.Literal(_options.Prefix + ":subs:changed")) is not null, "subscribed to subscription changes");

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within {Timeout}");
            await Task.Delay(20);
        }
    }

    private sealed record Node(IConnectionMultiplexer Connection, RedisWebhookStore Store, WebhookStores Stores) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stores.DisposeAsync();
            await Connection.DisposeAsync();
        }
    }

    /// <summary>The spec disposes what it opened synchronously; the store gives its leases back on the way.</summary>
    private sealed class Disposer(RedisWebhookStore store) : IDisposable
    {
        public void Dispose() => store.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
