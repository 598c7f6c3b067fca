using Herald.Engine;
using Herald.Webhooks.Outbound;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

internal sealed partial class SqliteOutbox
{
    /// <summary>
    /// In the channel log's own file, so that a delivery row commits in the same transaction as the
    /// publication it carries. <c>webhook_deliveries.body</c> is the publication's JSON as it will be
    /// POSTed (a copy: the publication may leave the channel's history long before its last retry).
    /// <c>state</c>: 0 pending, 1 delivered, 2 dead. <c>attempts</c> counts the current run (the
    /// position in the retry schedule, reset by a replay), <c>total</c> every attempt. Two partial
    /// indexes cover the pending rows only: by due time (what to attempt now) and by id (an
    /// ordered subscription's oldest). Times are unix milliseconds.
    /// <c>webhook_subscriptions.events</c> holds the event types it receives, one a line;
    /// <c>webhook_deliveries.type</c> the delivery's event type (its <c>seq</c> is 0 for any but a
    /// publication). Both came after the first release: <see cref="Migrate"/> adds them to an older
    /// file, its subscriptions then receiving publications only, as before.
    /// </summary>
    internal const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS webhook_subscriptions (
            id              TEXT    NOT NULL PRIMARY KEY,
            url             TEXT    NOT NULL,
            channels        TEXT    NOT NULL,
            secret          TEXT    NOT NULL,
            enabled         INTEGER NOT NULL,
            ordered         INTEGER NOT NULL,
            description     TEXT,
            created_ms      INTEGER NOT NULL,
            updated_ms      INTEGER NOT NULL,
            disabled_reason TEXT,
            events          TEXT    NOT NULL DEFAULT 'publication'
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS webhook_deliveries (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription TEXT    NOT NULL,
            webhook_id   TEXT    NOT NULL,
            channel      TEXT    NOT NULL,
            seq          INTEGER NOT NULL,
            body         BLOB    NOT NULL,
            state        INTEGER NOT NULL,
            attempts     INTEGER NOT NULL,
            total        INTEGER NOT NULL,
            next_ms      INTEGER NOT NULL,
            created_ms   INTEGER NOT NULL,
            type         TEXT    NOT NULL DEFAULT 'publication'
        );
        CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (subscription, next_ms, id) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (subscription, id) WHERE state = 0;
        CREATE TABLE IF NOT EXISTS webhook_attempts (
            delivery   INTEGER NOT NULL,
            number     INTEGER NOT NULL,
            time_ms    INTEGER NOT NULL,
            status     INTEGER,
            latency_ms INTEGER NOT NULL,
            error      TEXT,
            PRIMARY KEY (delivery, number)
        ) WITHOUT ROWID;
        """;

    /// <summary>Columns added since the tables were first created, with the value their existing rows get.</summary>
    private static readonly (string Table, string Column, string Definition)[] s_addedColumns =
    [
        ("webhook_subscriptions", "events", "TEXT NOT NULL DEFAULT 'publication'"),
        ("webhook_deliveries", "type", "TEXT NOT NULL DEFAULT 'publication'"),
    ];

    private const string SelectSubscriptionsSql = """
        SELECT id, url, channels, secret, enabled, ordered, description, created_ms, updated_ms, disabled_reason, events FROM webhook_subscriptions
        """;

    private const string UpsertSubscriptionSql = """
        INSERT OR REPLACE INTO webhook_subscriptions (id, url, channels, secret, enabled, ordered, description, created_ms, updated_ms, disabled_reason, events)
        VALUES ($id, $url, $channels, $secret, $enabled, $ordered, $description, $created, $updated, $reason, $events)
        """;

    private const string DeleteSubscriptionSql = """
        DELETE FROM webhook_attempts WHERE delivery IN (SELECT id FROM webhook_deliveries WHERE subscription = $id);
        DELETE FROM webhook_deliveries WHERE subscription = $id;
        DELETE FROM webhook_subscriptions WHERE id = $id;
        """;

    private const string InsertDeliverySql = """
        INSERT INTO webhook_deliveries (subscription, webhook_id, channel, seq, body, state, attempts, total, next_ms, created_ms, type)
        VALUES ($subscription, $webhook, $channel, $seq, $body, 0, 0, 0, $next, $created, $type)
        """;

    private const string InsertAttemptSql = """
        INSERT OR REPLACE INTO webhook_attempts (delivery, number, time_ms, status, latency_ms, error)
        VALUES ($delivery, $number, $time, $status, $latency, $error)
        """;

    /// <summary>Moves an existing delivery; <c>total</c> only grows, so a late record cannot undo a newer one's count.</summary>
    private const string UpdateDeliverySql = """
        UPDATE webhook_deliveries SET state = $state, attempts = $attempts, total = max(total, $total), next_ms = $next WHERE id = $id
        """;

    private const string SelectDeliverySubscriptionSql = "SELECT subscription FROM webhook_deliveries WHERE id = $id";

    /// <summary>The first delivery created after the retention cut-off; every finished one before it may go.</summary>
    private const string SelectSweepBoundarySql = "SELECT id FROM webhook_deliveries WHERE created_ms > $cutoff ORDER BY id LIMIT 1";

    /// <summary>Deletes up to <c>$limit</c> finished deliveries created before the boundary, with their attempts (<c>webhook_swept</c> is a TEMP table).</summary>
    private const string SweepSql = """
        DELETE FROM webhook_swept;
        INSERT INTO webhook_swept SELECT id FROM webhook_deliveries WHERE id < $boundary AND state <> 0 ORDER BY id LIMIT $limit;
        DELETE FROM webhook_attempts WHERE delivery IN (SELECT id FROM webhook_swept);
        DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_swept);
        """;

    /// <summary>Brings a file written by an older Herald up to <see cref="SchemaSql"/>: adds the columns it lacks.</summary>
    internal static void Migrate(SqliteConnection connection)
    {
        foreach (var (table, column, definition) in s_addedColumns)
        {
            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";
            if (count.ExecuteScalar() is not 0L)
                continue;
            using var add = connection.CreateCommand();
            add.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
            add.ExecuteNonQuery();
        }
    }
}
