using System.Text;
using Herald.Engine;
using Herald.Reading;
using Herald.Sqlite;

namespace Herald.Specification;

/// <summary>The read state spec on SQLite, plus what only a store in the log's file does: it survives a restart and shares the log's group commits.</summary>
public sealed class SqliteReadStateStoreTests : ReadStateStoreSpec
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "herald-spec-" + Guid.NewGuid().ToString("N"));
    private SqliteChannelLog log = null!;
    private SqliteReadStateStore store = null!;

    private string DatabasePath => Path.Combine(directory, "herald.db");

    protected override Task<IReadStateStore> CreateAsync()
    {
        log = new SqliteChannelLog(DatabasePath);
        store = new SqliteReadStateStore(log);
        return Task.FromResult<IReadStateStore>(store);
    }

    public override async Task DisposeAsync()
    {
        store.Dispose();
        await log.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task A_read_state_table_of_the_version_before_receipts_gains_their_columns_and_keeps_its_rows()
    {
        store.Dispose();
        await log.DisposeAsync().AsTask().WaitAsync(Timeout);
        Directory.CreateDirectory(directory);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE read_state (user_id TEXT NOT NULL, channel TEXT NOT NULL, epoch TEXT, seq INTEGER, n INTEGER, updated_ms INTEGER,
                    mention_epoch TEXT, mentions BLOB, changed INTEGER NOT NULL, PRIMARY KEY (user_id, channel)) WITHOUT ROWID;
                INSERT INTO read_state VALUES ('alice', 'dm:alice~bob', 'epochAAA', 4, 3, 0, NULL, NULL, 1);
                """;
            command.ExecuteNonQuery();
        }

        log = new SqliteChannelLog(DatabasePath);
        store = new SqliteReadStateStore(log);
        await store.SetMarkerAsync("bob", "dm:alice~bob", new ReadMarker(E1, 4, 3, Noon), MarkerWrite.Delivered).AsTask().WaitAsync(Timeout);

        Assert.Equal(4, Assert.Single(await store.GetAsync("alice", ["dm:alice~bob"], 10).AsTask().WaitAsync(Timeout)).Marker!.Offset);
        var receipts = await store.GetReceiptsAsync("dm:alice~bob", 10).AsTask().WaitAsync(Timeout);
        Assert.Equal(["alice", "bob"], receipts.Select(r => r.User));
        Assert.Null(receipts[0].Delivered);
        Assert.Equal(4, receipts[1].Delivered!.Offset);
    }

    [Fact]
    public async Task Entries_with_states_in_one_read_answer_what_the_two_reads_answer()
    {
        var small = new Retention(3, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync(new AppendRequest("chat:a", "1"u8.ToArray(), Retention.Default, Countable: i % 2 == 0)).AsTask().WaitAsync(Timeout);
            await log.AppendAsync(new AppendRequest("chat:trimmed", "1"u8.ToArray(), small)).AsTask().WaitAsync(Timeout);
        }

        var state = await log.GetStateAsync("chat:a").AsTask().WaitAsync(Timeout);
        await Set("alice", "chat:a", new ReadMarker(state.Epoch, 2, 1, Noon));
        await Mention("chat:a", ["alice"], new Position(state.Epoch, 4));
        await Set("alice", "chat:trimmed", new ReadMarker(state.Epoch, 1, 1, Noon));
        await Join("chat:never", ["alice"]);

        foreach (IReadOnlyList<string>? channels in new IReadOnlyList<string>?[] { null, ["chat:trimmed", "chat:none", "chat:a", "chat:never"] })
        {
            var together = await store.GetWithStatesAsync("alice", channels, 10).AsTask().WaitAsync(Timeout);
            var entries = channels is null
                ? await Get("alice", null, 10)
                : [.. channels.Select(c => new ReadEntry(c, null, []))];
            var names = channels ?? [.. entries.Select(e => e.Channel)];
            var found = (await Get("alice", names)).ToDictionary(e => e.Channel);
            var states = await log.GetStatesAsync(names).AsTask().WaitAsync(Timeout);

            Assert.Equal(names, together.Select(t => t.Entry.Channel));
            for (var i = 0; i < names.Count; i++)
            {
                Assert.Equal(states[i], together[i].State);
                var expected = found.GetValueOrDefault(names[i]);
                Assert.Equal(expected?.Marker?.Offset, together[i].Entry.Marker?.Offset);
                Assert.Equal(expected?.Mentions ?? [], together[i].Entry.Mentions);
            }
        }

        var trimmed = await store.GetWithStatesAsync("alice", ["chat:trimmed"], 10).AsTask().WaitAsync(Timeout);
        Assert.Equal((5L, 3L), (trimmed[0].State.Top, trimmed[0].State.First));
        Assert.Equal(3L, (await store.GetWithStatesAsync("alice", ["chat:a"], 10).AsTask().WaitAsync(Timeout))[0].State.N);
    }

    [Fact]
    public async Task Read_state_survives_a_restart()
    {
        var marker = new ReadMarker(E1, 12, 9, Noon);
        await Set("alice", "chat:a", marker);
        await Mention("chat:a", ["alice"], new Position(E1, 14));
        await Join("chat:b", ["alice"]);
        store.Dispose();
        await log.DisposeAsync().AsTask().WaitAsync(Timeout);

        log = new SqliteChannelLog(DatabasePath);
        store = new SqliteReadStateStore(log);
        var entries = await store.GetAsync("alice", null, 10).AsTask().WaitAsync(Timeout);

        Assert.Equal(["chat:b", "chat:a"], entries.Select(e => e.Channel));
        AssertMarker(marker, entries[1].Marker);
        Assert.Equal([new Position(E1, 14)], entries[1].Mentions);
        Assert.Null(entries[0].Marker);
    }

    [Fact]
    public async Task Writes_share_the_group_commit_of_the_appends_queued_with_them()
    {
        await Set("alice", "chat:warm-up", new ReadMarker(E1, 1, 1, Noon));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        log.BeforeBatch = () => new ValueTask(gate.Task);
        var committed = log.CommittedTransactions;

        // Every call queues before it returns, so all of them wait for the gate together.
        var writes = Enumerable.Range(1, 50).Select(i => store.SetMarkerAsync("alice", "chat:a", new ReadMarker(E1, i, i, Noon), MarkerWrite.Read).AsTask()).ToList();
        var mention = store.MentionAsync("chat:a", ["bob"], new Position(E1, 3), 10).AsTask();
        var append = log.AppendAsync(new AppendRequest("chat:a", Encoding.UTF8.GetBytes("1"), Retention.Default)).AsTask();
        gate.SetResult();
        await Task.WhenAll([.. writes, mention, append]).WaitAsync(Timeout);

        Assert.InRange(log.CommittedTransactions - committed, 1, 2);
        Assert.All(writes, w => Assert.True(w.Result.Changed));
        Assert.Equal(50, (await Entry("alice", "chat:a")).Marker!.Offset);
    }
}
