using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Herald.Engine;
using Herald.Reading;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

public sealed partial class SqliteReadStateStore
{
    // 4: the API's requests share them; more concurrent reads open temporary ones (as the log's own pool does).
    private const int MaxPooledReaders = 4;

    private const string Columns = "channel, epoch, seq, n, updated_ms, mention_epoch, mentions";

    /// <summary>
    /// One statement for any number of channels: the list is bound as one JSON array, and SQLite
    /// looks each element up in the primary key (one index seek per channel, no temporary table).
    /// </summary>
    private const string SelectChannelsSql = $"SELECT {Columns} FROM read_state WHERE user_id = $user AND channel IN (SELECT value FROM json_each($channels))";

    /// <summary>A channel's members in user order: the <c>read_state_channel</c> index, one range scan.</summary>
    private const string SelectReceiptsSql = "SELECT user_id, seen, delivered FROM read_state WHERE channel = $channel ORDER BY user_id LIMIT $limit";

    private const string SelectRecentSql = $"SELECT {Columns} FROM read_state WHERE user_id = $user ORDER BY changed DESC LIMIT $limit";

    /// <summary>The first retained offset of channel <c>c</c> under its history size and TTL, as the log computes it (<c>SqliteChannelLog</c>'s states).</summary>
    private const string FirstRetained = """
        (SELECT p.seq FROM publications p
         WHERE p.channel = c.name AND p.seq > c.top - c.history AND p.time_ms > $now - c.ttl_ms
         ORDER BY p.seq LIMIT 1)
        """;

    /// <summary>The user's most recently changed entries with their channels' states: the read-state index in order, one channel lookup each.</summary>
    private const string SelectRecentWithStatesSql = $"""
        SELECT rs.channel, rs.epoch, rs.seq, rs.n, rs.updated_ms, rs.mention_epoch, rs.mentions, c.epoch, c.top, c.n, {FirstRetained}
        FROM read_state rs LEFT JOIN channels c ON c.name = rs.channel
        WHERE rs.user_id = $user ORDER BY rs.changed DESC LIMIT $limit
        """;

    /// <summary>Every listed channel, in order, with the user's entry (if any) and its state.</summary>
    private const string SelectChannelsWithStatesSql = $"""
        SELECT j.value, rs.epoch, rs.seq, rs.n, rs.updated_ms, rs.mention_epoch, rs.mentions, c.epoch, c.top, c.n, {FirstRetained}
        FROM json_each($channels) j
        LEFT JOIN read_state rs ON rs.user_id = $user AND rs.channel = j.value
        LEFT JOIN channels c ON c.name = j.value
        ORDER BY j.key
        """;

    private readonly ConcurrentQueue<Reader> readers = new();
    private int pooledReaders;

    public ValueTask<IReadOnlyList<ReadEntry>> GetAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (channels is { Count: 0 } || (channels is null && limit <= 0))
            return ValueTask.FromResult<IReadOnlyList<ReadEntry>>([]);

        var schemaTask = Schema();
        return schemaTask.IsCompletedSuccessfully ? ValueTask.FromResult<IReadOnlyList<ReadEntry>>(Read(user, channels, limit)) : ReadAfterAsync(schemaTask, user, channels, limit);
    }

    private async ValueTask<IReadOnlyList<ReadEntry>> ReadAfterAsync(Task schemaTask, string user, IReadOnlyList<string>? channels, int limit)
    {
        await schemaTask.ConfigureAwait(false);
        return Read(user, channels, limit);
    }

    public async ValueTask<IReadOnlyList<MemberReceipt>> GetReceiptsAsync(string channel, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (limit <= 0)
            return [];
        await Schema().ConfigureAwait(false);
        return WithReader(reader => reader.Receipts(channel, limit));
    }

    public async ValueTask<IReadOnlyList<(ReadEntry Entry, StreamState State)>> GetWithStatesAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (channels is { Count: 0 } || (channels is null && limit <= 0))
            return [];
        var schemaTask = Schema();
        if (!schemaTask.IsCompletedSuccessfully)
            await schemaTask.ConfigureAwait(false);
        var now = log.NowMs;
        return WithReader(reader => reader.WithStates(user, channels, limit, now));
    }

    private List<ReadEntry> Read(string user, IReadOnlyList<string>? channels, int limit) =>
        WithReader(reader => channels is null ? reader.Recent(user, limit) : reader.Named(user, channels));

    private T WithReader<T>(Func<Reader, T> read)
    {
        if (!readers.TryDequeue(out var reader))
            reader = new Reader(log.OpenReadConnection());
        else
            Interlocked.Decrement(ref pooledReaders);

        try
        {
            return read(reader);
        }
        finally
        {
            Return(reader);
        }
    }

    private void Return(Reader reader)
    {
        if (Volatile.Read(ref disposed) == 0 && Interlocked.Increment(ref pooledReaders) <= MaxPooledReaders)
        {
            readers.Enqueue(reader);
            // Dispose may have drained the pool between the check and the enqueue.
            if (Volatile.Read(ref disposed) != 0 && readers.TryDequeue(out var late))
                late.Dispose();

            return;
        }

        Interlocked.Decrement(ref pooledReaders);
        reader.Dispose();
    }

    /// <summary>A read connection with the store's two prepared statements; each read is one statement, so one snapshot.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly SqliteConnection connection;
        private readonly SqliteCommand named;
        private readonly SqliteParameter[] namedParameters;
        private readonly SqliteCommand recent;
        private readonly SqliteParameter[] recentParameters;
        private readonly SqliteCommand receipts;
        private readonly SqliteParameter[] receiptsParameters;
        private readonly SqliteCommand recentWithStates;
        private readonly SqliteParameter[] recentWithStatesParameters;
        private readonly SqliteCommand namedWithStates;
        private readonly SqliteParameter[] namedWithStatesParameters;
        private readonly StringBuilder json = new();

        public Reader(SqliteConnection connection)
        {
            this.connection = connection;
            named = SqliteChannelLog.Prepare(connection, SelectChannelsSql, out namedParameters, "$user", "$channels");
            recent = SqliteChannelLog.Prepare(connection, SelectRecentSql, out recentParameters, "$user", "$limit");
            receipts = SqliteChannelLog.Prepare(connection, SelectReceiptsSql, out receiptsParameters, "$channel", "$limit");
            recentWithStates = SqliteChannelLog.Prepare(connection, SelectRecentWithStatesSql, out recentWithStatesParameters, "$user", "$limit", "$now");
            namedWithStates = SqliteChannelLog.Prepare(connection, SelectChannelsWithStatesSql, out namedWithStatesParameters, "$user", "$channels", "$now");
            namedWithStatesParameters[1].SqliteType = SqliteType.Text;
            // TEXT, not BLOB: json_each reads a BLOB as SQLite's binary JSONB.
            namedParameters[1].SqliteType = SqliteType.Text;
        }

        public List<ReadEntry> Named(string user, IReadOnlyList<string> channels)
        {
            namedParameters[0].Value = user;
            namedParameters[1].Value = JsonArray(channels);
            return Entries(named, Math.Min(channels.Count, 1024));
        }

        public List<(ReadEntry Entry, StreamState State)> WithStates(string user, IReadOnlyList<string>? channels, int limit, long nowMs)
        {
            SqliteCommand command;
            if (channels is null)
            {
                recentWithStatesParameters[0].Value = user;
                recentWithStatesParameters[1].Value = limit;
                recentWithStatesParameters[2].Value = nowMs;
                command = recentWithStates;
            }
            else
            {
                namedWithStatesParameters[0].Value = user;
                namedWithStatesParameters[1].Value = JsonArray(channels);
                namedWithStatesParameters[2].Value = nowMs;
                command = namedWithStates;
            }

            var rows = new List<(ReadEntry, StreamState)>(Math.Min(channels?.Count ?? limit, 1024));
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                var state = StreamState.Empty;
                if (!row.IsDBNull(7))
                {
                    var top = row.GetInt64(8);
                    state = new StreamState(row.GetString(7), top, row.IsDBNull(10) ? top + 1 : row.GetInt64(10), row.GetInt64(9));
                }

                rows.Add((new ReadEntry(row.GetString(0), MarkerAt(row, 1), MentionsAt(row, 5)), state));
            }

            return rows;
        }

        public List<MemberReceipt> Receipts(string channel, int limit)
        {
            receiptsParameters[0].Value = channel;
            receiptsParameters[1].Value = limit;
            var members = new List<MemberReceipt>(Math.Min(limit, 128));
            using var row = receipts.ExecuteReader();
            while (row.Read())
                members.Add(new MemberReceipt(row.GetString(0), ReceiptAt(row, 1), ReceiptAt(row, 2)));

            return members;
        }

        public List<ReadEntry> Recent(string user, int limit)
        {
            recentParameters[0].Value = user;
            recentParameters[1].Value = limit;
            return Entries(recent, Math.Min(limit, 1024));
        }

        /// <summary>The channels as a JSON array, escaping only what JSON requires (every other character as is: SQLite reads UTF-8).</summary>
        private string JsonArray(IReadOnlyList<string> channels)
        {
            json.Clear().Append('[');
            for (var i = 0; i < channels.Count; i++)
            {
                json.Append(i == 0 ? "\"" : ",\"");
                foreach (var c in channels[i])
                {
                    if (c is '"' or '\\')
                        json.Append('\\').Append(c);
                    else if (c < ' ')
                        json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        json.Append(c);
                }

                json.Append('"');
            }

            return json.Append(']').ToString();
        }

        private static List<ReadEntry> Entries(SqliteCommand command, int expected)
        {
            var entries = new List<ReadEntry>(expected);
            using var row = command.ExecuteReader();
            while (row.Read())
                entries.Add(new ReadEntry(row.GetString(0), MarkerAt(row, 1), MentionsAt(row, 5)));

            return entries;
        }

        public void Dispose()
        {
            named.Dispose();
            recent.Dispose();
            receipts.Dispose();
            recentWithStates.Dispose();
            namedWithStates.Dispose();
            connection.Dispose();
        }
    }
}
