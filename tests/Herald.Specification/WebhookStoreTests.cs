using System.Text;
using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Sqlite;
using Herald.Webhooks.Outbound;
using Microsoft.Data.Sqlite;

namespace Herald.Specification;

public sealed class MemoryWebhookStoreTests : WebhookStoreSpec
{
    private protected override WebhookStores Open(OutboxSignal signal)
    {
        var store = new MemoryWebhookStore(Options, signal, Time);
        return new WebhookStores(new MemoryChannelLog(store, Time), store, store, null);
    }
}

public sealed class SqliteWebhookStoreTests : WebhookStoreSpec
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "herald-spec-" + Guid.NewGuid().ToString("N"));

    private protected override WebhookStores Open(OutboxSignal signal)
    {
        var outbox = new SqliteOutbox(Options, signal);
        var log = new SqliteChannelLog(Path.Combine(directory, "herald.db"), null, Time, null, null, outbox);
        var store = new SqliteWebhookStore(log, outbox);
        return new WebhookStores(log, store, store, store);
    }

    protected override Task CleanupAsync()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Subscriptions_and_pending_deliveries_survive_a_restart_in_the_same_file()
    {
        var before = NewStores();
        await before.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        var publication = await Append(before, "a:x", "1");
        await before.DisposeAsync().AsTask().WaitAsync(Timeout);

        var after = NewStores();
        Assert.Equal(["sub_a"], (await after.Subscriptions.ListAsync()).Select(s => s.Id));
        var delivery = Assert.Single((await Due(after, "sub_a")).Due);
        Assert.Equal("msg_" + publication.Id, delivery.WebhookId);

        // The restarted log still matches new publications against the stored subscriptions.
        await Append(after, "a:y", "2");
        Assert.Equal(2, (await Due(after, "sub_a")).Due.Count);
    }

    [Fact]
    public async Task A_file_from_before_event_types_is_migrated_its_subscriptions_receive_publications_only_and_its_deliveries_are_kept()
    {
        Directory.CreateDirectory(directory);
        using (var old = new SqliteConnection($"Data Source={Path.Combine(directory, "herald.db")};Pooling=False"))
        {
            old.Open();
            using var command = old.CreateCommand();
            command.CommandText = OldSchema + """
                INSERT INTO webhook_subscriptions VALUES ('sub_old', 'https://example.com/old', 'a:*', 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 1, 0, NULL, 1000, 1000, NULL);
                INSERT INTO webhook_deliveries (subscription, webhook_id, channel, seq, body, state, attempts, total, next_ms, created_ms)
                VALUES ('sub_old', 'msg_old', 'a:x', 7, X'7B7D', 0, 0, 0, 0, 0);
                """;
            command.ExecuteNonQuery();
        }

        var s = NewStores();
        var migrated = await s.Subscriptions.GetAsync("sub_old").AsTask().WaitAsync(Timeout);
        Assert.Equal([WebhookEventTypes.Publication], migrated!.Events);
        var kept = Assert.Single((await s.Outbox.ListAsync(new DeliveryQuery(null, null, null, null, 10))).Deliveries);
        Assert.Equal(("msg_old", WebhookEventTypes.Publication, (long?)7), (kept.WebhookId, kept.Type, kept.Offset));
        Assert.Equal("{}", Encoding.UTF8.GetString(Assert.Single((await Due(s, "sub_old")).Due).Body.Span));

        await Append(s, "a:x", "1");
        Assert.Equal(2, (await Due(s, "sub_old")).Due.Count);
        Assert.Equal(0, await s.Outbox.EnqueueEventsAsync([PresenceEvent("a:x")]).AsTask().WaitAsync(Timeout));

        // The migrated file stores event types like a new one, across a restart.
        await s.Subscriptions.CreateAsync(Subscription("sub_new", ["a:*"], events: [WebhookEventTypes.ChannelOccupied]), 10);
        Assert.Equal(1, await s.Outbox.EnqueueEventsAsync([PresenceEvent("a:x")]).AsTask().WaitAsync(Timeout));
        await s.DisposeAsync().AsTask().WaitAsync(Timeout);
        var reopened = NewStores();
        Assert.Equal([WebhookEventTypes.ChannelOccupied], (await reopened.Subscriptions.GetAsync("sub_new"))!.Events);
        var evt = Assert.Single((await Due(reopened, "sub_new")).Due);
        Assert.StartsWith("evt_", evt.WebhookId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_delivery_commits_with_its_publication_in_one_transaction()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["a:*"]), 10);
        var log = (SqliteChannelLog)s.Log;
        var before = log.CommittedTransactions;
        await Append(s, "a:x", "1");
        Assert.Equal(before + 1, log.CommittedTransactions);
        Assert.Single((await Due(s, "sub_a")).Due);
    }

    private static WebhookEvent PresenceEvent(string channel) =>
        new(WebhookEvent.NewId(), WebhookEventTypes.ChannelOccupied, channel, Encoding.UTF8.GetBytes($$"""{"type":"channel.occupied","channel":"{{channel}}","time":"2026-01-01T00:00:00Z"}"""));

    /// <summary>The webhook tables as the first release created them, before <c>events</c> and <c>type</c>.</summary>
    private const string OldSchema = """
        CREATE TABLE webhook_subscriptions (
            id TEXT NOT NULL PRIMARY KEY, url TEXT NOT NULL, channels TEXT NOT NULL, secret TEXT NOT NULL,
            enabled INTEGER NOT NULL, ordered INTEGER NOT NULL, description TEXT, created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL, disabled_reason TEXT
        ) WITHOUT ROWID;
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT NOT NULL, webhook_id TEXT NOT NULL, channel TEXT NOT NULL,
            seq INTEGER NOT NULL, body BLOB NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL, total INTEGER NOT NULL,
            next_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription, next_ms, id) WHERE state = 0;
        CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription, id) WHERE state = 0;
        CREATE TABLE webhook_attempts (
            delivery INTEGER NOT NULL, number INTEGER NOT NULL, time_ms INTEGER NOT NULL, status INTEGER,
            latency_ms INTEGER NOT NULL, error TEXT, PRIMARY KEY (delivery, number)
        ) WITHOUT ROWID;
        """;
}
