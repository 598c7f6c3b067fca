using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
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
        private readonly StringBuilder json = new();

        public Reader(SqliteConnection connection)
        {
            this.connection = connection;
            named = SqliteChannelLog.Prepare(connection, SelectChannelsSql, out namedParameters, "$user", "$channels");
            recent = SqliteChannelLog.Prepare(connection, SelectRecentSql, out recentParameters, "$user", "$limit");
            receipts = SqliteChannelLog.Prepare(connection, SelectReceiptsSql, out receiptsParameters, "$channel", "$limit");
            // TEXT, not BLOB: json_each reads a BLOB as SQLite's binary JSONB.
            namedParameters[1].SqliteType = SqliteType.Text;
        }

        public List<ReadEntry> Named(string user, IReadOnlyList<string> channels)
        {
            namedParameters[0].Value = user;
            namedParameters[1].Value = JsonArray(channels);
            return Entries(named, Math.Min(channels.Count, 1024));
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
            connection.Dispose();
        }
    }
}
