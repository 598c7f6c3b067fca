using Herald.Engine;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    /// <summary>
    /// <c>channels</c> holds each channel's epoch and newest offset (<c>top</c>), so offsets survive
    /// trimming and restarts, and the retention of its last append (<c>ttl_ms</c>, <c>history</c>); <c>publications</c> and <c>idempotency</c> are keyed by channel first so
    /// that every per-channel read, trim and removal is one index range. <c>seq</c> is the offset
    /// (OFFSET is an SQL keyword). Times are unix milliseconds. <c>n</c> is the countable ordinal:
    /// the channel's newest in <c>channels</c>, and per publication <see cref="Publication.StoredN"/>
    /// (negative for one that does not count; NULL, read as 0, for rows from before ordinals).
    /// </summary>
    private const string SchemaSql = """
        CREATE TABLE IF NOT EXISTS channels (
            name   TEXT    NOT NULL PRIMARY KEY,
            epoch  TEXT    NOT NULL,
            top    INTEGER NOT NULL,
            ttl_ms  INTEGER NOT NULL,
            history INTEGER NOT NULL,
            n      INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS publications (
            channel TEXT    NOT NULL,
            seq     INTEGER NOT NULL,
            id      TEXT    NOT NULL,
            time_ms INTEGER NOT NULL,
            from_id TEXT,
            type    TEXT,
            data    BLOB    NOT NULL,
            meta    BLOB,
            n       INTEGER,
            PRIMARY KEY (channel, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS idempotency (
            channel    TEXT    NOT NULL,
            key        TEXT    NOT NULL,
            seq        INTEGER NOT NULL,
            id         TEXT    NOT NULL,
            time_ms    INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL,
            fingerprint BLOB,
            PRIMARY KEY (channel, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires_ms);
        """;

    private const string SelectChannelSql = "SELECT epoch, top, ttl_ms, history, n FROM channels WHERE name = $channel";

    private const string UpsertChannelSql = """
        INSERT INTO channels (name, epoch, top, ttl_ms, history, n) VALUES ($channel, $epoch, $top, $ttl, $history, $n)
        ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, top = excluded.top, ttl_ms = excluded.ttl_ms, history = excluded.history, n = excluded.n
        """;

    private const string InsertPublicationSql = """
        INSERT INTO publications (channel, seq, id, time_ms, from_id, type, data, meta, n)
        VALUES ($channel, $seq, $id, $time, $from, $type, $data, $meta, $n)
        """;

    private const string TrimPublicationsSql = "DELETE FROM publications WHERE channel = $channel AND seq <= $cut";

    /// <summary>The original publication of a live key; its data is gone (NULL) once trimmed, its position and id are not.</summary>
    private const string SelectKeySql = """
        SELECT i.seq, i.id, i.time_ms, p.from_id, p.type, p.data, p.meta, p.n, i.fingerprint
        FROM idempotency i LEFT JOIN publications p ON p.channel = i.channel AND p.seq = i.seq
        WHERE i.channel = $channel AND i.key = $key AND i.expires_ms > $now
        """;

    private const string UpsertKeySql = """
        INSERT OR REPLACE INTO idempotency (channel, key, seq, id, time_ms, expires_ms, fingerprint)
        VALUES ($channel, $key, $seq, $id, $time, $expires, $fingerprint)
        """;

    private const string RemoveChannelSql = """
        DELETE FROM publications WHERE channel = $channel;
        DELETE FROM idempotency WHERE channel = $channel;
        DELETE FROM channels WHERE name = $channel;
        """;

    /// <summary>A full scan, run every <see cref="SqliteChannelLogOptions.SweepInterval"/>; reads filter expired rows meanwhile.</summary>
    private const string SweepExpiredSql = """
        DELETE FROM publications WHERE time_ms <= $now - (SELECT c.ttl_ms FROM channels c WHERE c.name = publications.channel);
        DELETE FROM idempotency WHERE expires_ms <= $now;
        """;

    // Rows at or below $low (top - history) wait for the writer's next trim: reads skip them.
    private const string SelectFirstSql = """
        SELECT seq FROM publications WHERE channel = $channel AND seq > $low AND time_ms > $cutoff ORDER BY seq LIMIT 1
        """;

    /// <summary>
    /// Many channels' states in one statement (unread counts read hundreds): the channel rows of a
    /// JSON array of names, each with its first retained offset as <see cref="SelectFirstSql"/> finds it.
    /// </summary>
    private const string SelectStatesSql = """
        SELECT c.name, c.epoch, c.top, c.n,
               (SELECT p.seq FROM publications p
                WHERE p.channel = c.name AND p.seq > c.top - c.history AND p.time_ms > $now - c.ttl_ms
                ORDER BY p.seq LIMIT 1)
        FROM channels c WHERE c.name IN (SELECT value FROM json_each($names))
        """;

    private const string ReadForwardSql = """
        SELECT seq, id, time_ms, from_id, type, data, meta, n FROM publications
        WHERE channel = $channel AND seq > $after AND time_ms > $cutoff ORDER BY seq LIMIT $limit
        """;

    private const string ReadReverseSql = """
        SELECT seq, id, time_ms, from_id, type, data, meta, n FROM publications
        WHERE channel = $channel AND seq < $before AND seq > $low AND time_ms > $cutoff ORDER BY seq DESC LIMIT $limit
        """;
}
