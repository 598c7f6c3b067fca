using System.Text;
using Herald.Engine;
using Herald.Sqlite;

namespace Herald.Specification;

public sealed class SqliteChannelLogTests : ChannelLogSpec<SqliteChannelLog>
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "herald-spec-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(directory, "herald.db");

    protected override SqliteChannelLog CreateLog(IPublicationSink sink, TimeProvider time) => new(DatabasePath, sink, time);

    protected override Task CleanupAsync()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);

        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_restart_keeps_the_epoch_and_offsets_and_appends_continue_after_the_top()
    {
        var before = NewLog();
        await AppendMany(before, "chat:a", 5);
        await Append(before, Message("chat:a", "6", key: "k"));
        var state = await State(before, "chat:a");
        await before.DisposeAsync().AsTask().WaitAsync(Timeout);

        var after = NewLog();

        Assert.Equal(state, await State(after, "chat:a"));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), (await Read(after, "chat:a", 0, 100)).Publications.Select(p => p.Offset));
        Assert.True((await Append(after, Message("chat:a", "6", key: "k"))).Duplicate);
        var next = await Append(after, Message("chat:a", "7"));
        Assert.Equal(new Position(state.Epoch, 7), next.Publication.Position);
    }

    [Fact]
    public async Task A_database_from_before_meta_is_upgraded_in_place_and_keeps_its_publications()
    {
        Directory.CreateDirectory(directory);
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE channels (name TEXT NOT NULL PRIMARY KEY, epoch TEXT NOT NULL, top INTEGER NOT NULL, ttl_ms INTEGER NOT NULL, history INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE publications (channel TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, time_ms INTEGER NOT NULL, from_id TEXT, type TEXT, data BLOB NOT NULL, PRIMARY KEY (channel, seq)) WITHOUT ROWID;
                INSERT INTO channels VALUES ('chat:a', 'oldepoch', 1, 3600000, 100);
                INSERT INTO publications VALUES ('chat:a', 1, '0197a1b2c3d4e5f60718293a4b5c6d7e', $now, NULL, NULL, X'31');
                """;
            create.Parameters.AddWithValue("$now", Time.GetUtcNow().ToUnixTimeMilliseconds());
            create.ExecuteNonQuery();
        }

        var log = NewLog();
        var old1 = Assert.Single((await Read(log, "chat:a", 0, 10)).Publications);
        Assert.Equal("1", Text(old1));
        Assert.True(old1.Meta.IsEmpty);
        var next = await Append(log, Message("chat:a", "2") with { Meta = Encoding.UTF8.GetBytes("{}") });
        Assert.Equal(new Position("oldepoch", 2), next.Publication.Position);
        Assert.Equal("{}", Encoding.UTF8.GetString((await Read(log, "chat:a", 1, 10)).Publications[0].Meta.Span));
        // Rows from before ordinals count as nothing; the channel counts from the upgrade on.
        Assert.Equal((0L, false), (old1.N, old1.Countable));
        Assert.Equal((1L, true), (next.Publication.N, next.Publication.Countable));
        Assert.Equal(1, (await State(log, "chat:a")).N);
    }

    [Fact]
    public async Task Ordinals_survive_a_reopen()
    {
        var log = NewLog();
        await Append(log, Message("chat:o", "1"));
        await Append(log, Message("chat:o", "2") with { Countable = false });
        await Append(log, Message("chat:o", "3"));
        await log.DisposeAsync().AsTask().WaitAsync(Timeout);

        var reopened = NewLog();
        Assert.Equal(2, (await State(reopened, "chat:o")).N);
        Assert.Equal([(1L, true), (1L, false), (2L, true)], (await Read(reopened, "chat:o", 0, 10)).Publications.Select(p => (p.N, p.Countable)));
        Assert.Equal(3, (await Append(reopened, Message("chat:o", "4"))).Publication.N);
    }

    [Fact]
    public async Task A_second_log_on_the_same_file_is_refused_until_the_first_is_closed()
    {
        var first = NewLog();
        var refused = Assert.Throws<InvalidOperationException>(() => new SqliteChannelLog(DatabasePath));
        Assert.Contains("in use by another process", refused.Message, StringComparison.Ordinal);

        await first.DisposeAsync().AsTask().WaitAsync(Timeout);
        await using var second = new SqliteChannelLog(DatabasePath);
        Assert.True(await second.PingAsync());
    }

    [Fact]
    public async Task Dispose_commits_every_append_already_queued()
    {
        var log = NewLog();
        var pending = Enumerable.Range(0, 200).Select(i => log.AppendAsync(Message("chat:a", $"{i}")).AsTask()).ToList();

        await log.DisposeAsync().AsTask().WaitAsync(Timeout);
        await Task.WhenAll(pending).WaitAsync(Timeout);

        var reopened = NewLog();
        Assert.Equal(200, (await State(reopened, "chat:a")).Top);
    }

    [Fact]
    public async Task Concurrent_appends_share_one_group_commit()
    {
        var log = NewLog();
        await Append(log, Message("chat:a", "warm-up"));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        log.BeforeBatch = () => new ValueTask(gate.Task);
        var committed = log.CommittedTransactions;

        // AppendAsync queues before it returns, so all 64 are waiting when the gate opens.
        var pending = Enumerable.Range(0, 64).Select(i => log.AppendAsync(Message($"chat:{i % 4}", $"{i}")).AsTask()).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(pending).WaitAsync(Timeout);

        Assert.Equal(64, results.Length);
        Assert.InRange(log.CommittedTransactions - committed, 1, 2);
        for (var c = 0; c < 4; c++)
            Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), Sink.OffsetsOf($"chat:{c}"));
    }

    [Fact]
    public async Task A_remove_inside_a_batch_ends_the_epoch_between_the_appends_around_it()
    {
        var log = NewLog();
        await Append(log, Message("chat:other", "warm-up"));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        log.BeforeBatch = () => new ValueTask(gate.Task);

        var before = Enumerable.Range(0, 3).Select(i => log.AppendAsync(Message("chat:a", $"{i}", key: "k")).AsTask()).ToList();
        var remove = log.RemoveAsync("chat:a").AsTask();
        var after = Enumerable.Range(0, 2).Select(i => log.AppendAsync(Message("chat:a", $"{i}", key: $"k{i}")).AsTask()).ToList();
        gate.SetResult();
        var first = await Task.WhenAll(before).WaitAsync(Timeout);
        await remove.WaitAsync(Timeout);
        var second = await Task.WhenAll(after).WaitAsync(Timeout);

        // The three appends share one key in one batch: one is appended, two are its duplicates.
        Assert.Single(first, r => !r.Duplicate);
        Assert.All(first, r => Assert.Equal(1, r.Publication.Offset));
        Assert.Equal([1L, 2L], second.Select(r => r.Publication.Offset));
        Assert.All(second, r => Assert.False(r.Duplicate));
        Assert.NotEqual(first[0].Publication.Epoch, second[0].Publication.Epoch);
        Assert.Equal(new StreamState(second[0].Publication.Epoch, 2, 1, 2), await State(log, "chat:a"));
        Assert.Equal([1L, 1L, 2L], Sink.OffsetsOf("chat:a"));
    }

    [Fact]
    public async Task Full_synchronous_mode_opens_and_appends()
    {
        await using var log = new SqliteChannelLog(DatabasePath, Sink, Time, options: new SqliteChannelLogOptions { Synchronous = SqliteSynchronous.Full });

        var appended = await Append(log, Message("chat:a", "1"));

        Assert.Equal(1, appended.Publication.Offset);
        Assert.Equal(2, await log.GetSynchronousAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Normal_synchronous_mode_is_the_default()
    {
        var log = NewLog();
        Assert.Equal(1, await log.GetSynchronousAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_key_stored_before_fingerprints_is_upgraded_in_place_and_matches_any_retry()
    {
        Directory.CreateDirectory(directory);
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE channels (name TEXT NOT NULL PRIMARY KEY, epoch TEXT NOT NULL, top INTEGER NOT NULL, ttl_ms INTEGER NOT NULL, history INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE publications (channel TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, time_ms INTEGER NOT NULL, from_id TEXT, type TEXT, data BLOB NOT NULL, meta BLOB, PRIMARY KEY (channel, seq)) WITHOUT ROWID;
                CREATE TABLE idempotency (channel TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, time_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (channel, key)) WITHOUT ROWID;
                INSERT INTO channels VALUES ('chat:a', 'oldepoch', 1, 3600000, 100);
                INSERT INTO publications VALUES ('chat:a', 1, '0197a1b2c3d4e5f60718293a4b5c6d7e', $now, NULL, NULL, X'31', NULL);
                INSERT INTO idempotency VALUES ('chat:a', 'k', 1, '0197a1b2c3d4e5f60718293a4b5c6d7e', $now, $now + 600000);
                """;
            create.Parameters.AddWithValue("$now", Time.GetUtcNow().ToUnixTimeMilliseconds());
            create.ExecuteNonQuery();
        }

        var log = NewLog();
        var retry = await Append(log, Message("chat:a", "2", key: "k"));
        var fresh = await Append(log, Message("chat:a", "3", key: "k2"));
        var reused = await Append(log, Message("chat:a", "4", key: "k2"));

        Assert.True(retry.Duplicate);
        Assert.False(retry.KeyReused);
        Assert.Equal(1, retry.Publication.Offset);
        Assert.Equal(2, fresh.Publication.Offset);
        Assert.True(reused.KeyReused);
    }

    [Fact]
    public async Task Publications_past_the_ttl_are_swept_from_the_file()
    {
        var log = NewLog();
        var shortLived = Roomy with { HistoryTtl = TimeSpan.FromMinutes(1) };
        await AppendMany(log, "chat:a", 3, shortLived);

        // The sweep runs at most every 30 s, on the writer's next batch.
        Time.Advance(TimeSpan.FromMinutes(5));
        await Append(log, Message("chat:b", "1"));
        Time.Advance(TimeSpan.FromMinutes(-5));

        Assert.Empty((await Read(log, "chat:a", 0, 10)).Publications);
        Assert.Equal(3, (await State(log, "chat:a")).Top);
    }

    [Fact]
    public void An_unopenable_path_fails_with_the_path_in_the_message()
    {
        Directory.CreateDirectory(directory);
        var blocker = Path.Combine(directory, "not-a-directory");
        File.WriteAllText(blocker, "x");
        var path = Path.Combine(blocker, "herald.db");

        var error = Assert.Throws<InvalidOperationException>(() => new SqliteChannelLog(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
