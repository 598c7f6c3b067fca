using Herald.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    /// <summary>
    /// The one write connection and its statements, prepared once and rebound per row: SQLite
    /// then skips parsing and planning, which is most of the cost of a small INSERT.
    /// </summary>
    /// <remarks>Transactions are plain BEGIN/COMMIT statements so that commands need no per-batch transaction object.</remarks>
    private sealed class WriterConnection : IDisposable
    {
        private readonly SqliteConnection connection;
        private readonly SqliteCommand selectChannel;
        private readonly SqliteParameter[] selectChannelParameters;
        private readonly SqliteCommand upsertChannel;
        private readonly SqliteParameter[] upsertChannelParameters;
        private readonly SqliteCommand insertPublication;
        private readonly SqliteParameter[] insertParameters;
        private readonly SqliteCommand trim;
        private readonly SqliteParameter[] trimParameters;
        private readonly SqliteCommand selectKey;
        private readonly SqliteParameter[] selectKeyParameters;
        private readonly SqliteCommand upsertKey;
        private readonly SqliteParameter[] upsertKeyParameters;
        private readonly SqliteCommand removeChannel;
        private readonly SqliteParameter[] removeParameters;
        private readonly SqliteCommand sweep;
        private readonly SqliteParameter[] sweepParameters;

        public WriterConnection(SqliteConnection connection)
        {
            this.connection = connection;
            Begin = Prepare(connection, "BEGIN IMMEDIATE", out _);
            Commit = Prepare(connection, "COMMIT", out _);
            Rollback = Prepare(connection, "ROLLBACK", out _);
            Savepoint = Prepare(connection, "SAVEPOINT work", out _);
            Release = Prepare(connection, "RELEASE work", out _);
            RollbackToSavepoint = Prepare(connection, "ROLLBACK TO work", out _);
            selectChannel = Prepare(connection, SelectChannelSql, out selectChannelParameters, "$channel");
            upsertChannel = Prepare(connection, UpsertChannelSql, out upsertChannelParameters, "$channel", "$epoch", "$top", "$ttl", "$history", "$n");
            insertPublication = Prepare(connection, InsertPublicationSql, out insertParameters, "$channel", "$seq", "$id", "$time", "$from", "$type", "$data", "$meta", "$n");
            trim = Prepare(connection, TrimPublicationsSql, out trimParameters, "$channel", "$cut");
            selectKey = Prepare(connection, SelectKeySql, out selectKeyParameters, "$channel", "$key", "$now");
            upsertKey = Prepare(connection, UpsertKeySql, out upsertKeyParameters, "$channel", "$key", "$seq", "$id", "$time", "$expires", "$fingerprint");
            removeChannel = Prepare(connection, RemoveChannelSql, out removeParameters, "$channel");
            sweep = Prepare(connection, SweepExpiredSql, out sweepParameters, "$now");
            insertParameters[6].SqliteType = SqliteType.Blob;
            insertParameters[7].SqliteType = SqliteType.Blob;
        }

        public SqliteCommand Begin { get; }

        public SqliteCommand Commit { get; }

        public SqliteCommand Rollback { get; }

        public SqliteCommand Savepoint { get; }

        public SqliteCommand Release { get; }

        public SqliteCommand RollbackToSavepoint { get; }

        /// <summary>For an <see cref="ISqliteLogExtension"/> to prepare its own statements on.</summary>
        public SqliteConnection Connection => connection;

        public ChannelRow? LoadChannel(string channel)
        {
            selectChannelParameters[0].Value = channel;
            using var row = selectChannel.ExecuteReader();
            if (!row.Read())
                return null;

            return new ChannelRow(channel, row.GetString(0)) { Top = row.GetInt64(1), TtlMs = row.GetInt64(2), HistorySize = (int)row.GetInt64(3), N = row.GetInt64(4) };
        }

        public void UpsertChannel(ChannelRow row)
        {
            upsertChannelParameters[0].Value = row.Name;
            upsertChannelParameters[1].Value = row.Epoch;
            upsertChannelParameters[2].Value = row.Top;
            upsertChannelParameters[3].Value = row.TtlMs;
            upsertChannelParameters[4].Value = row.HistorySize;
            upsertChannelParameters[5].Value = row.N;
            upsertChannel.ExecuteNonQuery();
        }

        /// <param name="data">The publication's data as the array it was received in (bound as is, not copied).</param>
        /// <param name="meta">Likewise its <c>meta</c>, or null for none.</param>
        public void Insert(Publication publication, byte[] data, byte[]? meta, long timeMs)
        {
            insertParameters[0].Value = publication.Channel;
            insertParameters[1].Value = publication.Offset;
            insertParameters[2].Value = publication.Id;
            insertParameters[3].Value = timeMs;
            insertParameters[4].Value = OrNull(publication.From);
            insertParameters[5].Value = OrNull(publication.Type);
            insertParameters[6].Value = data;
            insertParameters[7].Value = meta is { Length: > 0 } ? meta : DBNull.Value;
            insertParameters[8].Value = publication.StoredN;
            insertPublication.ExecuteNonQuery();
        }

        public void Trim(string channel, long cut)
        {
            trimParameters[0].Value = channel;
            trimParameters[1].Value = cut;
            trim.ExecuteNonQuery();
        }

        /// <summary>The original publication of a live key and the fingerprint it was stored with (empty for keys stored before fingerprints).</summary>
        public (Publication Original, byte[] Fingerprint)? FindKey(ChannelRow row, string key, long nowMs)
        {
            selectKeyParameters[0].Value = row.Name;
            selectKeyParameters[1].Value = key;
            selectKeyParameters[2].Value = nowMs;
            using var reader = selectKey.ExecuteReader();
            if (!reader.Read())
                return null;
            return (ReadPublication(reader, row.Name, row.Epoch, 0), reader.IsDBNull(8) ? [] : reader.GetFieldValue<byte[]>(8));
        }

        public void UpsertKey(Publication publication, string key, long timeMs, long expiresMs, byte[] fingerprint)
        {
            upsertKeyParameters[0].Value = publication.Channel;
            upsertKeyParameters[1].Value = key;
            upsertKeyParameters[2].Value = publication.Offset;
            upsertKeyParameters[3].Value = publication.Id;
            upsertKeyParameters[4].Value = timeMs;
            upsertKeyParameters[5].Value = expiresMs;
            upsertKeyParameters[6].Value = fingerprint;
            upsertKey.ExecuteNonQuery();
        }

        public void RemoveChannel(string channel)
        {
            removeParameters[0].Value = channel;
            removeChannel.ExecuteNonQuery();
        }

        public void Sweep(long nowMs)
        {
            sweepParameters[0].Value = nowMs;
            sweep.ExecuteNonQuery();
        }

        public void Dispose()
        {
            // Disposing the commands finalizes their statements, which the connection needs to close cleanly.
            Begin.Dispose();
            Commit.Dispose();
            Rollback.Dispose();
            Savepoint.Dispose();
            Release.Dispose();
            RollbackToSavepoint.Dispose();
            selectChannel.Dispose();
            upsertChannel.Dispose();
            insertPublication.Dispose();
            trim.Dispose();
            selectKey.Dispose();
            upsertKey.Dispose();
            removeChannel.Dispose();
            sweep.Dispose();
            connection.Dispose();
        }
    }
}
