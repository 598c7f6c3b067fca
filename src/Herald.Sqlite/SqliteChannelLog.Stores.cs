using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>What a store kept in the log's file (read state) needs of the log: the writer's connection on its loop, and read connections.</summary>
public sealed partial class SqliteChannelLog
{
    /// <summary>
    /// <see cref="RunOnWriterAsync{T}(Func{long, T}, CancellationToken)"/> with the writer's
    /// connection, for a store that keeps its own prepared statements on it (they stay valid for the
    /// log's life; only the writer loop may touch them).
    /// </summary>
    internal ValueTask<T> RunOnWriterAsync<T>(Func<SqliteConnection, long, T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunOnWriterAsync(nowMs => work(writer.Connection, nowMs), cancellationToken);
    }

    /// <summary>A new read connection to the log's file, opened as the log opens its own; the caller owns it.</summary>
    /// <exception cref="InvalidOperationException">The database cannot be opened.</exception>
    internal SqliteConnection OpenReadConnection()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return Open(writable: false);
    }

    /// <summary>The log's clock, in unix milliseconds: what its retention (the first retained offset under a TTL) is computed against.</summary>
    internal long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();
}
