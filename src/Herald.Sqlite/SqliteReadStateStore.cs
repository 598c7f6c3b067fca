using System.Buffers.Binary;
using Herald.Engine;
using Herald.Reading;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// Read markers, receipts and mentions in the SQLite channel log's file (table <c>read_state</c>). Writes run
/// on the log's one writer loop (<see cref="SqliteChannelLog.RunOnWriterAsync{T}(Func{SqliteConnection, long, T}, CancellationToken)"/>):
/// they join the next group commit with the appends, never wait for the write lock, and are atomic
/// per (user, channel) because nothing else writes meanwhile. Reads are one prepared statement on a
/// pooled read connection (WAL: readers never block the writer).
/// </summary>
/// <remarks>
/// <see cref="ReadMarker.UpdatedAt"/> is kept in unix milliseconds; the marker answered by
/// <see cref="SetMarkerAsync"/> is the one stored (to the millisecond, in UTC). A user's channels are
/// ordered by <c>changed</c>, the user's own change counter (the next is one above the user's
/// highest), so entries changed within one millisecond, or one group commit, keep their order.
/// </remarks>
public sealed partial class SqliteReadStateStore : IReadStateStore, IReadStateWithStates, IDisposable
{
    /// <summary>
    /// The read marker's columns are NULL when the entry has none (a join or a mention made it); the mentions
    /// are one epoch's offsets, oldest first, 8 bytes little-endian each (NULL: none); <c>seen</c> and
    /// <c>delivered</c>, the receipts' markers, are <c>"offset n ms epoch"</c> (NULL: none), added to
    /// tables of an earlier version by <see cref="MigrateSql"/>. <c>read_state_channel</c> lists a
    /// channel's members in user order.
    /// </summary>
    private const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS read_state (
            user_id       TEXT    NOT NULL,
            channel       TEXT    NOT NULL,
            epoch         TEXT,
            seq           INTEGER,
            n             INTEGER,
            updated_ms    INTEGER,
            mention_epoch TEXT,
            mentions      BLOB,
            changed       INTEGER NOT NULL,
            seen          TEXT,
            delivered     TEXT,
            PRIMARY KEY (user_id, channel)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS read_state_changed ON read_state (user_id, changed);
        """;

    /// <summary>The receipts' columns, for a table created before them; then the channel index.</summary>
    private const string MigrateSql = """
        SELECT COUNT(*) FROM pragma_table_info('read_state') WHERE name = 'seen';
        """;

    private const string AddReceiptColumnsSql = """
        ALTER TABLE read_state ADD COLUMN seen TEXT;
        ALTER TABLE read_state ADD COLUMN delivered TEXT;
        """;

    private const string ChannelIndexSql = "CREATE INDEX IF NOT EXISTS read_state_channel ON read_state (channel, user_id);";

    private const string SelectSql = "SELECT epoch, seq, n, updated_ms, mention_epoch, mentions, seen, delivered FROM read_state WHERE user_id = $user AND channel = $channel";

    /// <summary>The user's highest change number: the last entry of the user's range in <c>read_state_changed</c>, one index seek.</summary>
    private const string LastChangeSql = "SELECT changed FROM read_state WHERE user_id = $user ORDER BY changed DESC LIMIT 1";

    /// <summary>The read marker and mentions; the seen marker too when <c>$seen</c> is not NULL (read and seen in one write), else it stays.</summary>
    private const string UpsertSql = """
        INSERT INTO read_state (user_id, channel, epoch, seq, n, updated_ms, mention_epoch, mentions, changed, seen)
        VALUES ($user, $channel, $epoch, $seq, $n, $updated, $mentionEpoch, $mentions, $changed, $seen)
        ON CONFLICT (user_id, channel) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq, n = excluded.n,
            updated_ms = excluded.updated_ms, mention_epoch = excluded.mention_epoch, mentions = excluded.mentions, changed = excluded.changed,
            seen = COALESCE(excluded.seen, read_state.seen)
        """;

    /// <summary>A receipt marker, creating the entry without a read marker when there is none; the user's channel order moves only then.</summary>
    private const string UpsertSeenSql = """
        INSERT INTO read_state (user_id, channel, seen, changed) VALUES ($user, $channel, $value, $changed)
        ON CONFLICT (user_id, channel) DO UPDATE SET seen = excluded.seen
        """;

    private const string UpsertDeliveredSql = """
        INSERT INTO read_state (user_id, channel, delivered, changed) VALUES ($user, $channel, $value, $changed)
        ON CONFLICT (user_id, channel) DO UPDATE SET delivered = excluded.delivered
        """;

    private const string DeleteSql = "DELETE FROM read_state WHERE user_id = $user AND channel = $channel";

    /// <summary>An entry's mentions when it has none, shared: most entries have none.</summary>
    private static readonly Position[] s_none = [];

    private readonly SqliteChannelLog log;
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingMarker> markers = new();
    private int markerFlushQueued;
    private readonly Lock schemaLock = new();
    private Task? schema;
    private WriterStatements? statements;
    private int disposed;

    /// <param name="log">The log whose file and writer loop the read state shares; it must outlive the store.</param>
    public SqliteReadStateStore(SqliteChannelLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        this.log = log;
    }

    public ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(marker);
        ArgumentException.ThrowIfNullOrEmpty(marker.Epoch, nameof(marker));
        var stored = marker with { UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(marker.UpdatedAt.ToUnixTimeMilliseconds()) };
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

        // Markers move with every message a user sends: they are batched, so the markers queued
        // while the writer is busy cost one work item (one savepoint) in the next group commit.
        var pending = new PendingMarker(user, channel, stored, write);
        markers.Enqueue(pending);
        if (Interlocked.CompareExchange(ref markerFlushQueued, 1, 0) == 0)
            _ = FlushMarkersAsync();
        return new ValueTask<MarkerUpdate>(pending.Task);
    }

    private async Task FlushMarkersAsync()
    {
        var batch = new List<PendingMarker>();
        try
        {
            await OnWriter(w =>
            {
                // From here a marker queued next schedules the next flush; this one takes all queued so far.
                Volatile.Write(ref markerFlushQueued, 0);
                while (markers.TryDequeue(out var next))
                {
                    batch.Add(next);
                    var row = w.Load(next.User, next.Channel);
                    if (next.Write == MarkerWrite.ReadAndSeen)
                    {
                        next.Result = SetReadAndSeen(w, next, row);
                        continue;
                    }

                    var stored = next.Write switch
                    {
                        MarkerWrite.Seen => row?.Seen,
                        MarkerWrite.Delivered => row?.Delivered,
                        _ => row?.Marker,
                    };
                    if (row is not null && !ReadMarkers.Advances(stored, next.Marker, next.Write == MarkerWrite.ReadBackward))
                    {
                        next.Result = new MarkerUpdate(stored!, Changed: false);
                        continue;
                    }

                    if (next.Write is MarkerWrite.Seen or MarkerWrite.Delivered)
                        w.UpsertReceipt(next.User, next.Channel, next.Write, next.Marker, created: row is null);
                    else
                        w.Upsert(next.User, next.Channel, next.Marker, row is null ? s_none : ReadMarkers.After(next.Marker, row.Value.Mentions));
                    next.Result = new MarkerUpdate(next.Marker, Changed: true);
                }

                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Every marker of the batch fails with the writer's failure; none is lost silently.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The work did not run (the log is closed) or was rolled back: fail what it took and what waits.
            Volatile.Write(ref markerFlushQueued, 0);
            while (markers.TryDequeue(out var next))
                batch.Add(next);
            foreach (var failed in batch)
                failed.TrySetException(ex);
            return;
        }

        foreach (var done in batch)
            done.TrySetResult(done.Result);
    }

    /// <summary>The read marker and then the seen marker: one statement when both move (an author's message, a read shown to others).</summary>
    private static MarkerUpdate SetReadAndSeen(WriterStatements w, PendingMarker next, (ReadMarker? Marker, IReadOnlyList<Position> Mentions, ReadMarker? Seen, ReadMarker? Delivered)? row)
    {
        var (read, changed, seenChanged) = ReadMarkers.ReadAndSeen(row?.Marker, row?.Seen, next.Marker);
        if (changed)
            w.Upsert(next.User, next.Channel, read, row is null ? s_none : ReadMarkers.After(read, row.Value.Mentions), seenChanged ? read : null);
        else if (seenChanged)
            w.UpsertReceipt(next.User, next.Channel, MarkerWrite.Seen, read, created: false); // the read marker did not move: the entry exists
        return new MarkerUpdate(read, changed, seenChanged);
    }

    public ValueTask MentionAsync(string channel, IReadOnlyList<string> users, Position position, int keep, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentException.ThrowIfNullOrEmpty(position.Epoch, nameof(position));
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        if (!CheckUsers(users))
            return ValueTask.CompletedTask;

        return Done(OnWriter(w =>
        {
            foreach (var user in users)
            {
                var row = w.Load(user, channel);
                var mentions = ReadMarkers.WithMention(row?.Marker, row?.Mentions ?? s_none, position, keep);
                if (row is null || mentions is not null)
                    w.Upsert(user, channel, row?.Marker, (IReadOnlyList<Position>?)mentions ?? s_none);
            }

            return true;
        }, cancellationToken));
    }

    public ValueTask JoinAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (!CheckUsers(users))
            return ValueTask.CompletedTask;

        return Done(OnWriter(w =>
        {
            foreach (var user in users)
            {
                if (w.Load(user, channel) is null)
                    w.Upsert(user, channel, marker: null, s_none);
            }

            return true;
        }, cancellationToken));
    }

    public ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return OnWriter(w => w.Delete(user, channel), cancellationToken);
    }

    /// <summary>Closes the pooled read connections and, on the writer loop, the store's statements there.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;

        while (readers.TryDequeue(out var reader))
            reader.Dispose();

        try
        {
            _ = log.RunOnWriterAsync(_ =>
            {
                statements?.Dispose();
                statements = null;
                return true;
            }).AsTask();
        }
        catch (ObjectDisposedException)
        {
            // The log is closed: closing its writer connection finalized the statements.
        }
    }

    private static bool CheckUsers(IReadOnlyList<string> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        foreach (var user in users)
            ArgumentException.ThrowIfNullOrEmpty(user, nameof(users));

        return users.Count > 0;
    }

    private static ValueTask Done(ValueTask<bool> work) =>
        work.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(work.AsTask());

    /// <summary>Queues <paramref name="work"/> on the log's writer, after the table's creation when that has not committed yet.</summary>
    private ValueTask<T> OnWriter<T>(Func<WriterStatements, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        _ = Schema();
        return log.RunOnWriterAsync((connection, _) => work(statements ??= new WriterStatements(connection)), cancellationToken);
    }

    /// <summary>
    /// The table's creation, queued on the writer on first use and again when its batch failed.
    /// Work queued after it runs after it (the writer keeps the queue's order), so writes need not
    /// wait for it; reads do, once.
    /// </summary>
    private Task Schema()
    {
        var created = Volatile.Read(ref schema);
        if (created is { IsCompletedSuccessfully: true })
            return created;

        lock (schemaLock)
        {
            if (schema is null || schema.IsFaulted || schema.IsCanceled)
            {
                schema = log.RunOnWriterAsync((connection, _) =>
                {
                    using var command = connection.CreateCommand();
                    command.CommandText = SchemaSql;
                    command.ExecuteNonQuery();
                    command.CommandText = MigrateSql;
                    if (command.ExecuteScalar() is 0L)
                    {
                        command.CommandText = AddReceiptColumnsSql;
                        command.ExecuteNonQuery();
                    }

                    command.CommandText = ChannelIndexSql;
                    command.ExecuteNonQuery();
                    return true;
                }).AsTask();
            }

            return schema;
        }
    }

    private static ReadMarker? MarkerAt(SqliteDataReader row, int first) =>
        row.IsDBNull(first) ? null : new ReadMarker(row.GetString(first), row.GetInt64(first + 1), row.GetInt64(first + 2), DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(first + 3)));

    /// <summary>A receipt marker as stored: <c>"offset n ms epoch"</c> (the epoch last: it is the only part that is not a number).</summary>
    private static string EncodeReceipt(ReadMarker marker) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{marker.Offset} {marker.N} {marker.UpdatedAt.ToUnixTimeMilliseconds()} {marker.Epoch}");

    private static ReadMarker? ReceiptAt(SqliteDataReader row, int column)
    {
        if (row.IsDBNull(column))
            return null;
        var parts = row.GetString(column).Split(' ', 4);
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        return new ReadMarker(parts[3], long.Parse(parts[0], culture), long.Parse(parts[1], culture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], culture)));
    }

    private static IReadOnlyList<Position> MentionsAt(SqliteDataReader row, int first)
    {
        if (row.IsDBNull(first + 1))
            return s_none;

        var epoch = row.GetString(first);
        var bytes = row.GetFieldValue<byte[]>(first + 1);
        var mentions = new List<Position>(bytes.Length / sizeof(long));
        for (var i = 0; i + sizeof(long) <= bytes.Length; i += sizeof(long))
            mentions.Add(new Position(epoch, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i))));

        return mentions;
    }

    private static byte[] Encode(IReadOnlyList<Position> mentions)
    {
        var bytes = new byte[mentions.Count * sizeof(long)];
        for (var i = 0; i < mentions.Count; i++)
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), mentions[i].Offset);

        return bytes;
    }

    /// <summary>The store's statements on the writer's connection; only the writer loop touches them.</summary>
    private sealed class WriterStatements : IDisposable
    {
        private readonly SqliteCommand select;
        private readonly SqliteParameter[] selectParameters;
        private readonly SqliteCommand lastChange;
        private readonly SqliteParameter[] lastChangeParameters;
        private readonly SqliteCommand upsert;
        private readonly SqliteParameter[] upsertParameters;
        private readonly SqliteCommand delete;
        private readonly SqliteParameter[] deleteParameters;
        private readonly SqliteCommand upsertSeen;
        private readonly SqliteParameter[] upsertSeenParameters;
        private readonly SqliteCommand upsertDelivered;
        private readonly SqliteParameter[] upsertDeliveredParameters;

        public WriterStatements(SqliteConnection connection)
        {
            select = SqliteChannelLog.Prepare(connection, SelectSql, out selectParameters, "$user", "$channel");
            lastChange = SqliteChannelLog.Prepare(connection, LastChangeSql, out lastChangeParameters, "$user");
            upsert = SqliteChannelLog.Prepare(connection, UpsertSql, out upsertParameters, "$user", "$channel", "$epoch", "$seq", "$n", "$updated", "$mentionEpoch", "$mentions", "$changed", "$seen");
            delete = SqliteChannelLog.Prepare(connection, DeleteSql, out deleteParameters, "$user", "$channel");
            upsertSeen = SqliteChannelLog.Prepare(connection, UpsertSeenSql, out upsertSeenParameters, "$user", "$channel", "$value", "$changed");
            upsertDelivered = SqliteChannelLog.Prepare(connection, UpsertDeliveredSql, out upsertDeliveredParameters, "$user", "$channel", "$value", "$changed");
            upsertParameters[7].SqliteType = SqliteType.Blob;
        }

        /// <summary>The entry, or null when the user has none for the channel.</summary>
        public (ReadMarker? Marker, IReadOnlyList<Position> Mentions, ReadMarker? Seen, ReadMarker? Delivered)? Load(string user, string channel)
        {
            selectParameters[0].Value = user;
            selectParameters[1].Value = channel;
            using var row = select.ExecuteReader();
            return row.Read() ? (MarkerAt(row, 0), MentionsAt(row, 4), ReceiptAt(row, 6), ReceiptAt(row, 7)) : null;
        }

        /// <summary>Writes a receipt marker; a new entry is the user's most recently changed one, an existing one keeps its place.</summary>
        public void UpsertReceipt(string user, string channel, MarkerWrite write, ReadMarker marker, bool created)
        {
            var parameters = write == MarkerWrite.Seen ? upsertSeenParameters : upsertDeliveredParameters;
            long changed = 0;
            if (created)
            {
                lastChangeParameters[0].Value = user;
                changed = lastChange.ExecuteScalar() is long last ? last + 1 : 1;
            }

            parameters[0].Value = user;
            parameters[1].Value = channel;
            parameters[2].Value = EncodeReceipt(marker);
            parameters[3].Value = changed;
            (write == MarkerWrite.Seen ? upsertSeen : upsertDelivered).ExecuteNonQuery();
        }

        /// <summary>Writes the entry as the user's most recently changed one; its seen marker too when <paramref name="seen"/> is given.</summary>
        public void Upsert(string user, string channel, ReadMarker? marker, IReadOnlyList<Position> mentions, ReadMarker? seen = null)
        {
            lastChangeParameters[0].Value = user;
            var changed = lastChange.ExecuteScalar() is long last ? last + 1 : 1;
            upsertParameters[0].Value = user;
            upsertParameters[1].Value = channel;
            upsertParameters[2].Value = marker is null ? DBNull.Value : marker.Epoch;
            upsertParameters[3].Value = marker is null ? DBNull.Value : marker.Offset;
            upsertParameters[4].Value = marker is null ? DBNull.Value : marker.N;
            upsertParameters[5].Value = marker is null ? DBNull.Value : marker.UpdatedAt.ToUnixTimeMilliseconds();
            upsertParameters[6].Value = mentions.Count == 0 ? DBNull.Value : mentions[0].Epoch;
            upsertParameters[7].Value = mentions.Count == 0 ? DBNull.Value : Encode(mentions);
            upsertParameters[8].Value = changed;
            upsertParameters[9].Value = seen is null ? DBNull.Value : EncodeReceipt(seen);
            upsert.ExecuteNonQuery();
        }

        public bool Delete(string user, string channel)
        {
            deleteParameters[0].Value = user;
            deleteParameters[1].Value = channel;
            return delete.ExecuteNonQuery() > 0;
        }

        public void Dispose()
        {
            select.Dispose();
            lastChange.Dispose();
            upsert.Dispose();
            delete.Dispose();
            upsertSeen.Dispose();
            upsertDelivered.Dispose();
        }
    }

    /// <summary>A marker waiting for the next flush; it is its own completion source.</summary>
    private sealed class PendingMarker(string user, string channel, ReadMarker marker, MarkerWrite write)
        : TaskCompletionSource<MarkerUpdate>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string User { get; } = user;

        public string Channel { get; } = channel;

        public ReadMarker Marker { get; } = marker;

        public MarkerWrite Write { get; } = write;

        public MarkerUpdate Result { get; set; }
    }
}
