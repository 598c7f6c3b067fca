using Herald.Engine;

namespace Herald.Sqlite;

/// <summary>Tuning of <see cref="SqliteChannelLog"/>; the defaults suit one node.</summary>
public sealed record SqliteChannelLogOptions
{
    /// <summary>
    /// How hard a commit waits for the disk. With the log in WAL mode, <see cref="SqliteSynchronous.Normal"/>
    /// writes every commit to the WAL file before the append is acknowledged but does not fsync it:
    /// a killed or crashed process loses nothing acknowledged, only an OS crash or power loss can
    /// roll back the last commits. <see cref="SqliteSynchronous.Full"/> fsyncs the WAL on every commit
    /// (one fsync per group commit, not per append) and survives power loss.
    /// </summary>
    public SqliteSynchronous Synchronous { get; init; } = SqliteSynchronous.Normal;

    /// <summary>Most appends committed in one transaction. 1024: large enough that a commit's fixed cost is spread thin, small enough to keep one commit under a few milliseconds.</summary>
    public int MaxBatchSize { get; init; } = 1024;

    /// <summary>How often the writer deletes publications past their TTL and expired idempotency keys (reads filter them out in between).</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Read connections kept open for reuse; more concurrent readers open temporary ones.</summary>
    public int MaxPooledReaders { get; init; } = 16;
}

/// <summary>SQLite's <c>PRAGMA synchronous</c> levels that make sense for the channel log.</summary>
public enum SqliteSynchronous
{
    /// <summary>Durable across a process kill; an OS crash or power loss may lose the last commits.</summary>
    Normal,

    /// <summary>Durable across power loss: fsync on every commit.</summary>
    Full,
}
