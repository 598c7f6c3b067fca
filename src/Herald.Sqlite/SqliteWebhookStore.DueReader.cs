using Herald.Engine;
using Herald.Webhooks.Outbound;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

internal sealed partial class SqliteWebhookStore
{
    /// <summary>
    /// The delivery worker's read path, run for every batch it takes: a read connection with its
    /// statements prepared once. Due ids come from the partial index alone (no row is touched for
    /// the claimed ones, which lead the index order while they are in flight); only the rows taken
    /// are read, by id, with their bodies.
    /// </summary>
    private sealed class DueReader : IDisposable
    {
        private readonly SqliteConnection connection;
        private readonly SqliteCommand begin;
        private readonly SqliteCommand end;
        private readonly SqliteCommand dueIds;
        private readonly SqliteCommand row;
        private readonly SqliteCommand nextDue;
        private readonly SqliteCommand head;

        public DueReader(SqliteConnection connection)
        {
            this.connection = connection;
            begin = Command("BEGIN");
            end = Command("COMMIT");
            dueIds = Command("""
                SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_due
                WHERE subscription = $subscription AND state = 0 AND next_ms <= $now ORDER BY next_ms, id LIMIT $limit
                """, "$subscription", "$now", "$limit");
            row = Command("SELECT webhook_id, body, attempts, total, state FROM webhook_deliveries WHERE id = $id", "$id");
            nextDue = Command("""
                SELECT min(next_ms) FROM webhook_deliveries INDEXED BY webhook_deliveries_due
                WHERE subscription = $subscription AND state = 0 AND next_ms > $now
                """, "$subscription", "$now");
            head = Command("""
                SELECT id, next_ms FROM webhook_deliveries INDEXED BY webhook_deliveries_pending
                WHERE subscription = $subscription AND state = 0 ORDER BY id LIMIT 1
                """, "$subscription");
        }

        public DueBatch TakeDue(string subscription, long nowMs, int limit, IReadOnlySet<long> claimed)
        {
            begin.ExecuteNonQuery();
            try
            {
                // Claimed deliveries are due too and come first: ask for as many more ids.
                var ids = new List<long>(Math.Min(limit, 256));
                dueIds.Parameters[0].Value = subscription;
                dueIds.Parameters[1].Value = nowMs;
                dueIds.Parameters[2].Value = limit + claimed.Count;
                using (var reader = dueIds.ExecuteReader())
                {
                    while (reader.Read() && ids.Count < limit)
                    {
                        var id = reader.GetInt64(0);
                        if (!claimed.Contains(id))
                            ids.Add(id);
                    }
                }

                if (ids.Count > 0)
                {
                    var due = new List<DueDelivery>(ids.Count);
                    foreach (var id in ids)
                    {
                        if (Read(id) is { } delivery)
                            due.Add(delivery);
                    }

                    return new DueBatch(due, null);
                }

                nextDue.Parameters[0].Value = subscription;
                nextDue.Parameters[1].Value = nowMs;
                return new DueBatch([], nextDue.ExecuteScalar() is long next ? next : null);
            }
            finally
            {
                end.ExecuteNonQuery();
            }
        }

        public DueBatch TakeHead(string subscription, long nowMs, IReadOnlySet<long> claimed)
        {
            begin.ExecuteNonQuery();
            try
            {
                long id, nextMs;
                head.Parameters[0].Value = subscription;
                using (var reader = head.ExecuteReader())
                {
                    if (!reader.Read())
                        return new DueBatch([], null);
                    (id, nextMs) = (reader.GetInt64(0), reader.GetInt64(1));
                }

                if (claimed.Contains(id))
                    return new DueBatch([], null);
                if (nextMs > nowMs)
                    return new DueBatch([], nextMs);
                return Read(id) is { } delivery ? new DueBatch([delivery], null) : new DueBatch([], null);
            }
            finally
            {
                end.ExecuteNonQuery();
            }
        }

        public void Dispose()
        {
            begin.Dispose();
            end.Dispose();
            dueIds.Dispose();
            row.Dispose();
            nextDue.Dispose();
            head.Dispose();
            connection.Dispose();
        }

        private DueDelivery? Read(long id)
        {
            row.Parameters[0].Value = id;
            using var reader = row.ExecuteReader();
            return reader.Read() && reader.GetInt64(4) == 0
                ? new DueDelivery(id, reader.GetString(0), reader.GetFieldValue<byte[]>(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3))
                : null;
        }

        private SqliteCommand Command(string sql, params string[] parameters) => SqliteChannelLog.Prepare(connection, sql, out _, parameters);
    }
}
