using Herald.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    // 100,000: channel rows cached by the writer (~100 bytes each) before the cache starts over.
    private const int MaxCachedChannels = 100_000;

    private readonly WriterConnection writer;
    private readonly Dictionary<string, ChannelRow> channelRows = new(StringComparer.Ordinal);
    private readonly List<ChannelRow> dirtyRows = [];
    private readonly IdGenerator ids = new();
    private long committedTransactions;
    private long nextSweepMs;

    private WriterConnection OpenWriter()
    {
        var connection = Open(writable: true);
        try
        {
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "PRAGMA journal_mode = WAL";
                var mode = command.ExecuteScalar() as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"The SQLite channel log '{DatabasePath}' cannot use WAL mode (journal_mode is '{mode}').");
            }

            // temp_store and a 16 MiB page cache keep the trims and sweeps off the disk. Every commit
            // appends whole pages to the WAL; checkpointing every 4000 pages (16 MiB) instead of 1000
            // copies each hot page back once per many commits and fsyncs 4x less often.
            // journal_size_limit truncates the WAL back to 64 MiB after a burst.
            Execute(connection, $"""
                PRAGMA synchronous = {(options.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")};
                PRAGMA temp_store = MEMORY;
                PRAGMA cache_size = -16384;
                PRAGMA busy_timeout = 5000;
                PRAGMA wal_autocheckpoint = 4000;
                PRAGMA journal_size_limit = 67108864;
                """);
            Execute(connection, SchemaSql);
            // Databases from before publications carried 'meta', or keys a fingerprint, get the
            // column (NULL for their rows: such a key matches any retry).
            AddColumnIfMissing(connection, "publications", "meta", "BLOB");
            AddColumnIfMissing(connection, "idempotency", "fingerprint", "BLOB");
            // ...or countable ordinals: their publications count as nothing (n 0), their channels start counting at 0.
            AddColumnIfMissing(connection, "publications", "n", "INTEGER");
            AddColumnIfMissing(connection, "channels", "n", "INTEGER NOT NULL DEFAULT 0");

            return new WriterConnection(connection);
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new InvalidOperationException($"Cannot open the SQLite channel log '{DatabasePath}': {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void AddColumnIfMissing(SqliteConnection connection, string table, string column, string declaration)
    {
        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";
        if (count.ExecuteScalar() is 0L)
            Execute(connection, $"ALTER TABLE {table} ADD COLUMN {column} {declaration}");
    }

    private async Task RunWriterAsync()
    {
        var reader = queue.Reader;
        var batch = new List<object>(Math.Min(options.MaxBatchSize, 4096));
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                if (BeforeBatch is { } beforeBatch)
                    await beforeBatch().ConfigureAwait(false);

                while (batch.Count < options.MaxBatchSize && reader.TryRead(out var operation))
                    batch.Add(operation);

                RunBatch(batch);
                batch.Clear();
            }
        }
#pragma warning disable CA1031 // Whatever stopped the loop, every waiting append must fail instead of hanging.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.WriterStopped(logger, DatabasePath, ex);
            queue.Writer.TryComplete(ex);
            var failure = new InvalidOperationException($"The SQLite channel log '{DatabasePath}' stopped: {ex.Message}", ex);
            foreach (var operation in batch)
                Fail(operation, failure);
            while (reader.TryRead(out var operation))
                Fail(operation, failure);
        }
        finally
        {
            extension?.Dispose();
            writer.Dispose();
        }
    }

    /// <summary>Runs one group commit; acknowledges and publishes only after COMMIT returned.</summary>
    private void RunBatch(List<object> batch)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            if (channelRows.Count > MaxCachedChannels)
                channelRows.Clear();

            writer.Begin.ExecuteNonQuery();
            foreach (var operation in batch)
            {
                if (operation is PendingAppend append)
                {
                    if (append.CancellationToken.IsCancellationRequested)
                        append.Skipped = true;
                    else
                        Append(append, nowMs);
                }
                else if (operation is PendingRemove remove)
                {
                    if (remove.CancellationToken.IsCancellationRequested)
                        remove.Skipped = true;
                    else
                        Remove(remove.Channel);
                }
                else if (operation is IPendingWork work)
                {
                    RunWork(work, nowMs);
                }
            }

            foreach (var row in dirtyRows)
            {
                if (row.Removed)
                    continue;

                writer.UpsertChannel(row);
                var cut = row.Top - row.HistorySize;
                // Trimming a few rows per commit would rewrite the channel's oldest B-tree page on every
                // commit; waiting for 1/8 of the history (at most 256 rows) deletes whole pages at once.
                if (cut - row.TrimmedThrough >= Math.Clamp(row.HistorySize / 8, 1, 256))
                {
                    writer.Trim(row.Name, cut);
                    row.TrimmedThrough = cut;
                }
            }

            if (nowMs >= nextSweepMs)
            {
                writer.Sweep(nowMs);
                extension?.OnSweep(nowMs);
                nextSweepMs = nowMs + (long)options.SweepInterval.TotalMilliseconds;
            }

            writer.Commit.ExecuteNonQuery();
            Interlocked.Increment(ref committedTransactions);
            extension?.OnCommitted();
        }
#pragma warning disable CA1031 // One failed commit fails its own batch; the writer goes on with the next.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.BatchFailed(logger, DatabasePath, batch.Count, ex);
            try
            {
                writer.Rollback.ExecuteNonQuery();
            }
            catch (SqliteException rollbackFailure)
            {
                Log.RollbackFailed(logger, DatabasePath, rollbackFailure);
            }

            // The cached tops may include rolled-back appends: reload from the database.
            channelRows.Clear();
            extension?.OnRolledBack();
            var failure = new InvalidOperationException($"The SQLite channel log '{DatabasePath}' could not commit: {ex.Message}", ex);
            foreach (var operation in batch)
                Fail(operation, failure);

            return;
        }
        finally
        {
            foreach (var row in dirtyRows)
                row.Dirty = false;

            dirtyRows.Clear();
        }

        foreach (var operation in batch)
        {
            if (operation is PendingAppend append)
            {
                if (append.Skipped)
                    append.TrySetCanceled(append.CancellationToken);
                else
                    append.TrySetResult(append.Result);
            }
            else if (operation is PendingRemove remove)
            {
                if (remove.Skipped)
                    remove.TrySetCanceled(remove.CancellationToken);
                else
                    remove.TrySetResult();
            }
            else if (operation is IPendingWork work)
            {
                work.Complete();
            }
        }

        if (sink is null)
            return;

        foreach (var operation in batch)
        {
            if (operation is PendingAppend { Skipped: false, Result.Duplicate: false } append)
                Publish(append.Result.Publication);
        }
    }

    private static void Fail(object operation, Exception failure)
    {
        if (operation is PendingAppend append)
            append.TrySetException(failure);
        else if (operation is PendingRemove remove)
            remove.TrySetException(failure);
        else if (operation is IPendingWork work)
            work.Fail(failure);
    }

    private void Publish(Publication publication)
    {
        try
        {
            sink!.OnPublished(publication);
        }
#pragma warning disable CA1031 // A failing subscriber must not stop the writer that every channel shares.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SinkFailed(logger, publication.Channel, publication.Offset, ex);
        }
    }

    private void Append(PendingAppend append, long nowMs)
    {
        var request = append.Request;
        var row = GetRow(request.Channel);
        var key = request.IdempotencyKey;
        if (key is not null && writer.FindKey(row, key, nowMs) is var (original, stored))
        {
            append.Result = new AppendResult(original, Duplicate: true, KeyReused: !IdempotencyFingerprint.Matches(stored, append.Fingerprint));
            return;
        }

        var n = request.Countable ? row.N + 1 : row.N;
        var publication = new Publication
        {
            Channel = row.Name,
            Offset = row.Top + 1,
            Epoch = row.Epoch,
            Id = ids.Next(nowMs),
            Time = DateTimeOffset.FromUnixTimeMilliseconds(nowMs),
            From = request.From,
            Type = request.Type,
            Meta = request.Meta,
            Data = request.Data,
            N = n,
            Countable = request.Countable,
        };

        writer.Insert(publication, append.Data, request.Meta, nowMs);
        if (key is not null)
            writer.UpsertKey(publication, key, nowMs, nowMs + (long)request.Retention.IdempotencyWindow.TotalMilliseconds, append.Fingerprint!);
        extension?.OnAppended(publication, nowMs);

        row.Top = publication.Offset;
        row.N = n;
        row.HistorySize = Math.Max(1, request.Retention.HistorySize);
        row.TtlMs = (long)request.Retention.HistoryTtl.TotalMilliseconds;
        if (!row.Dirty)
        {
            row.Dirty = true;
            dirtyRows.Add(row);
        }

        append.Result = new AppendResult(publication, Duplicate: false);
    }

    private void Remove(string channel)
    {
        writer.RemoveChannel(channel);
        if (channelRows.Remove(channel, out var row))
            row.Removed = true;
    }

    private ChannelRow GetRow(string channel)
    {
        if (channelRows.TryGetValue(channel, out var row))
            return row;

        row = writer.LoadChannel(channel) ?? new ChannelRow(channel, Epochs.New());
        channelRows.Add(channel, row);
        return row;
    }

    /// <summary>The writer's copy of a <c>channels</c> row; only the writer loop touches it.</summary>
    private sealed class ChannelRow(string name, string epoch)
    {
        public string Name { get; } = name;

        public string Epoch { get; } = epoch;

        public long Top { get; set; }

        /// <summary>The countable ordinal at the top.</summary>
        public long N { get; set; }

        public long TtlMs { get; set; }

        public int HistorySize { get; set; } = int.MaxValue;

        /// <summary>Offsets up to this one are deleted; 0 after loading, so the first trim catches up.</summary>
        public long TrimmedThrough { get; set; }

        /// <summary>Appended to in the current batch: its row is written before COMMIT.</summary>
        public bool Dirty { get; set; }

        public bool Removed { get; set; }
    }
}
