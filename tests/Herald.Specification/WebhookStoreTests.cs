using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Sqlite;
using Herald.Webhooks.Outbound;

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
}
