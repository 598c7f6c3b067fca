using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Webhooks.Outbound;

namespace Herald.Specification;

/// <summary>A channel log and the webhook store that rides on it, as the server wires them.</summary>
internal sealed record WebhookStores(IChannelLog Log, IWebhookSubscriptionStore Subscriptions, IWebhookOutbox Outbox, IDisposable? Owned) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        Owned?.Dispose();
        await Log.DisposeAsync();
    }
}

/// <summary>
/// What every webhook store must do — subscriptions, the outbox fed by the log's appends, due
/// deliveries and claims, attempt records, replay, listing — run once per backend. Time is manual.
/// </summary>
public abstract partial class WebhookStoreSpec : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly Retention Roomy = new(100_000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
    private static readonly IReadOnlySet<long> None = new HashSet<long>();

    private readonly List<WebhookStores> opened = [];

    protected ManualTimeProvider Time { get; } = new();

    internal RecordingListener Listener { get; } = new();

    internal OutboundWebhookOptions Options { get; } = new() { RetrySchedule = "0s, 5s, 5m", DeliveryRetention = TimeSpan.FromHours(1) };

    private protected abstract WebhookStores Open(OutboxSignal signal);

    protected virtual Task CleanupAsync() => Task.CompletedTask;

    private protected WebhookStores NewStores()
    {
        var stores = Open(new OutboxSignal { Listener = Listener });
        opened.Add(stores);
        return stores;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var stores in opened)
            await stores.DisposeAsync().AsTask().WaitAsync(Timeout);
        await CleanupAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task Subscriptions_are_created_read_listed_patched_and_deleted()
    {
        var s = NewStores();
        var created = Subscription("sub_a", ["orders:*"]);
        Assert.True(await s.Subscriptions.CreateAsync(created, 10).AsTask().WaitAsync(Timeout));

        Assert.Equal(created.Id, (await s.Subscriptions.GetAsync("sub_a"))?.Id);
        Assert.Equal(["sub_a"], (await s.Subscriptions.ListAsync()).Select(x => x.Id));
        Assert.Equal(1, Listener.Changes);

        Time.Advance(TimeSpan.FromSeconds(1));
        var patched = await s.Subscriptions.UpdateAsync("sub_a", new SubscriptionPatch(Url: "https://example.com/new", Ordered: true)).AsTask().WaitAsync(Timeout);
        Assert.NotNull(patched);
        Assert.Equal("https://example.com/new", patched.Url);
        Assert.True(patched.Ordered);
        Assert.Equal(["orders:*"], patched.Channels);
        Assert.Equal(Time.GetUtcNow(), patched.UpdatedAt);
        Assert.Equal(created.Secret, (await s.Subscriptions.GetAsync("sub_a"))!.Secret);

        Assert.Null(await s.Subscriptions.UpdateAsync("sub_none", new SubscriptionPatch(Enabled: false)));
        Assert.True(await s.Subscriptions.DeleteAsync("sub_a"));
        Assert.False(await s.Subscriptions.DeleteAsync("sub_a"));
        Assert.Empty(await s.Subscriptions.ListAsync());
    }

    [Fact]
    public async Task Creating_beyond_the_limit_is_refused()
    {
        var s = NewStores();
        Assert.True(await s.Subscriptions.CreateAsync(Subscription("sub_1", ["a:*"]), 2));
        Assert.True(await s.Subscriptions.CreateAsync(Subscription("sub_2", ["a:*"]), 2));
        Assert.False(await s.Subscriptions.CreateAsync(Subscription("sub_3", ["a:*"]), 2));
        Assert.Equal(2, (await s.Subscriptions.ListAsync()).Count);
    }

    [Fact]
    public async Task A_matching_publication_becomes_one_due_delivery_per_enabled_subscription()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["orders:*", "orders:eu"]), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_off", ["orders:*"], enabled: false), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_chat", ["chat:*"]), 10);

        var publication = await Append(s, "orders:eu", """{"n":1}""");
        await Append(s, "billing:x", "2");

        var due = await Due(s, "sub_a");
        var delivery = Assert.Single(due.Due);
        Assert.Equal("msg_" + publication.Id, delivery.WebhookId);
        Assert.Equal(0, delivery.Attempts);
        using var body = JsonDocument.Parse(delivery.Body);
        Assert.Equal("publication", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("orders:eu", body.RootElement.GetProperty("channel").GetString());
        Assert.Equal(1, body.RootElement.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Empty((await Due(s, "sub_off")).Due);
        Assert.Empty((await Due(s, "sub_chat")).Due);
        Assert.Contains("sub_a", Listener.Queued);
        Assert.DoesNotContain("sub_off", Listener.Queued);
    }

    [Fact]
    public async Task Due_deliveries_come_oldest_first_skip_claims_and_respect_the_limit()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        for (var i = 0; i < 5; i++)
            await Append(s, "a:x", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var all = (await Due(s, "sub_a", limit: 10)).Due;
        Assert.Equal(5, all.Count);
        Assert.Equal(all.Select(d => d.Id).Order(), all.Select(d => d.Id));

        var claimed = new HashSet<long> { all[0].Id, all[1].Id };
        var rest = await s.Outbox.TakeDueAsync("sub_a", false, NowMs, 2, claimed).AsTask().WaitAsync(Timeout);
        Assert.Equal([all[2].Id, all[3].Id], rest.Due.Select(d => d.Id));
    }

    [Fact]
    public async Task A_failed_attempt_reschedules_and_a_success_finishes_with_every_attempt_kept()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(s, "a:x", "1");
        var delivery = Assert.Single((await Due(s, "sub_a")).Due);

        await Record(s, delivery, 500, DeliveryStatus.Pending, NowMs + 5000);
        var waiting = await Due(s, "sub_a");
        Assert.Empty(waiting.Due);
        Assert.Equal(NowMs + 5000, waiting.NextDueMs);

        Time.Advance(TimeSpan.FromSeconds(5));
        var again = Assert.Single((await Due(s, "sub_a")).Due);
        Assert.Equal((1, 1), (again.Attempts, again.TotalAttempts));
        await Record(s, again, 200, DeliveryStatus.Delivered, NowMs);

        var done = await Due(s, "sub_a");
        Assert.Empty(done.Due);
        Assert.Null(done.NextDueMs);
        var stored = await s.Outbox.GetAsync(delivery.Id);
        Assert.NotNull(stored);
        Assert.Equal(DeliveryStatus.Delivered, stored.Status);
        Assert.Null(stored.NextAttemptAt);
        Assert.Equal([(1, (int?)500), (2, 200)], stored.Attempts.Select(a => (a.Number, a.StatusCode)));
    }

    [Fact]
    public async Task An_ordered_subscription_offers_only_its_oldest_pending_delivery()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_o", ["a:*"], ordered: true), 10);
        for (var i = 0; i < 3; i++)
            await Append(s, "a:x", "0");

        var head = Assert.Single((await Due(s, "sub_o", ordered: true)).Due);
        Assert.Empty((await s.Outbox.TakeDueAsync("sub_o", true, NowMs, 10, new HashSet<long> { head.Id })).Due);

        await Record(s, head, 503, DeliveryStatus.Pending, NowMs + 5000);
        var blocked = await Due(s, "sub_o", ordered: true);
        Assert.Empty(blocked.Due);
        Assert.Equal(NowMs + 5000, blocked.NextDueMs);

        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(head.Id, Assert.Single((await Due(s, "sub_o", ordered: true)).Due).Id);
    }

    [Fact]
    public async Task A_410_record_disables_the_subscription_and_new_publications_are_not_queued()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(s, "a:x", "1");
        var delivery = Assert.Single((await Due(s, "sub_a")).Due);
        var changes = Listener.Changes;

        await s.Outbox.RecordAsync(new AttemptRecord(delivery.Id, "sub_a", Attempt(1, 410), DeliveryStatus.Dead, 1, NowMs, "gone")).AsTask().WaitAsync(Timeout);
        var subscription = await s.Subscriptions.GetAsync("sub_a");
        Assert.False(subscription!.Enabled);
        Assert.Equal("gone", subscription.DisabledReason);
        Assert.True(Listener.Changes > changes);

        await Append(s, "a:x", "2");
        Assert.Single((await s.Outbox.ListAsync(new DeliveryQuery("sub_a", null, null, null, 100))).Deliveries);
        Assert.Equal(ReplayOutcome.SubscriptionDisabled, await s.Outbox.ReplayAsync(delivery.Id));

        var enabled = await s.Subscriptions.UpdateAsync("sub_a", new SubscriptionPatch(Enabled: true));
        Assert.Null(enabled!.DisabledReason);
    }

    [Fact]
    public async Task A_replay_makes_a_dead_delivery_due_now_with_a_fresh_schedule_and_its_history()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(s, "a:x", "1");
        var delivery = Assert.Single((await Due(s, "sub_a")).Due);
        await Record(s, delivery, 500, DeliveryStatus.Dead, NowMs);
        Assert.Empty((await Due(s, "sub_a")).Due);

        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(ReplayOutcome.Replayed, await s.Outbox.ReplayAsync(delivery.Id).AsTask().WaitAsync(Timeout));
        Assert.Equal(ReplayOutcome.NotFound, await s.Outbox.ReplayAsync(delivery.Id + 1000));

        var replayed = Assert.Single((await Due(s, "sub_a")).Due);
        Assert.Equal(delivery.WebhookId, replayed.WebhookId);
        Assert.Equal((0, 1), (replayed.Attempts, replayed.TotalAttempts));
        var stored = await s.Outbox.GetAsync(delivery.Id);
        Assert.Equal(DeliveryStatus.Pending, stored!.Status);
        Assert.Single(stored.Attempts);
    }

    [Fact]
    public async Task Listing_filters_and_pages_newest_first()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_b", ["a:x"]), 10);
        for (var i = 0; i < 4; i++)
            await Append(s, i % 2 == 0 ? "a:x" : "a:y", "0");

        var page = await s.Outbox.ListAsync(new DeliveryQuery(null, null, null, null, 4));
        Assert.Equal(4, page.Deliveries.Count);
        Assert.Equal(page.Deliveries.Select(d => d.Id).OrderDescending(), page.Deliveries.Select(d => d.Id));
        Assert.NotNull(page.NextBefore);
        var next = await s.Outbox.ListAsync(new DeliveryQuery(null, null, null, page.NextBefore, 4));
        Assert.Equal(2, next.Deliveries.Count);
        Assert.Null(next.NextBefore);

        Assert.Equal(2, (await s.Outbox.ListAsync(new DeliveryQuery("sub_b", null, null, null, 10))).Deliveries.Count);
        Assert.Equal(2, (await s.Outbox.ListAsync(new DeliveryQuery("sub_a", null, "a:y", null, 10))).Deliveries.Count);
        Assert.Equal(6, (await s.Outbox.ListAsync(new DeliveryQuery(null, DeliveryStatus.Pending, null, null, 10))).Deliveries.Count);
        Assert.Empty((await s.Outbox.ListAsync(new DeliveryQuery(null, DeliveryStatus.Dead, null, null, 10))).Deliveries);
    }

    [Fact]
    public async Task Deleting_a_subscription_removes_its_deliveries()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(s, "a:x", "0");
        var id = Assert.Single((await Due(s, "sub_a")).Due).Id;
        await s.Subscriptions.DeleteAsync("sub_a");
        Assert.Null(await s.Outbox.GetAsync(id));
        Assert.Empty((await s.Outbox.ListAsync(new DeliveryQuery(null, null, null, null, 10))).Deliveries);
    }

    [Fact]
    public async Task Finished_deliveries_are_swept_after_the_retention_and_pending_ones_are_kept()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        await Append(s, "a:x", "0");
        await Append(s, "a:x", "1");
        var due = (await Due(s, "sub_a")).Due;
        await Record(s, due[0], 200, DeliveryStatus.Delivered, NowMs);

        Time.Advance(Options.DeliveryRetention + TimeSpan.FromSeconds(1));
        await Append(s, "a:x", "2");
        var fresh = (await Due(s, "sub_a")).Due.Single(d => d.Id != due[1].Id);
        await Record(s, fresh, 200, DeliveryStatus.Delivered, NowMs);

        Assert.Null(await s.Outbox.GetAsync(due[0].Id));
        Assert.NotNull(await s.Outbox.GetAsync(due[1].Id));
        Assert.NotNull(await s.Outbox.GetAsync(fresh.Id));
    }

    private protected long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    private protected WebhookSubscription Subscription(string id, string[] channels, bool enabled = true, bool ordered = false, string[]? events = null) =>
        new(id, "https://example.com/" + id, channels, "whsec_" + Convert.ToBase64String(new byte[32]), enabled, ordered, null, Time.GetUtcNow(), Time.GetUtcNow(), null)
        {
            Events = events ?? WebhookEventTypes.Default,
        };

    private protected static async Task<Publication> Append(WebhookStores s, string channel, string json) =>
        (await s.Log.AppendAsync(new AppendRequest(channel, Encoding.UTF8.GetBytes(json), Roomy)).AsTask().WaitAsync(Timeout)).Publication;

    private protected async Task<DueBatch> Due(WebhookStores s, string subscription, bool ordered = false, int limit = 10) =>
        await s.Outbox.TakeDueAsync(subscription, ordered, NowMs, limit, None).AsTask().WaitAsync(Timeout);

    private protected async Task Record(WebhookStores s, DueDelivery delivery, int status, DeliveryStatus to, long nextMs) =>
        await s.Outbox.RecordAsync(new AttemptRecord(delivery.Id, "sub", Attempt(delivery.TotalAttempts + 1, status), to, delivery.Attempts + 1, nextMs, null))
            .AsTask().WaitAsync(Timeout);

    private protected WebhookAttempt Attempt(int number, int status) => new(number, Time.GetUtcNow(), status, 5, status is >= 200 and < 300 ? null : $"HTTP {status}");
}

/// <summary>Counts what a store told the delivery worker.</summary>
internal sealed class RecordingListener : IOutboxListener
{
    private readonly List<string> queued = [];
    private int changes;

    public IReadOnlyList<string> Queued
    {
        get
        {
            lock (queued)
                return [.. queued];
        }
    }

    public int Changes => Volatile.Read(ref changes);

    public void OnQueued(string subscription)
    {
        lock (queued)
            queued.Add(subscription);
    }

    public void OnSubscriptionsChanged() => Interlocked.Increment(ref changes);
}
