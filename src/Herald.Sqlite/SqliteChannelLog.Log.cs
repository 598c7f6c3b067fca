using Herald.Engine;
using Microsoft.Extensions.Logging;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    /// <summary>Event ids 1100–1199 belong to the SQLite channel log.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, EventName = "SqliteLogOpened", Level = LogLevel.Information,
            Message = "Opened the SQLite channel log '{Path}' (WAL, synchronous={Synchronous}).")]
        public static partial void Opened(ILogger logger, string path, SqliteSynchronous synchronous);

        [LoggerMessage(EventId = 1201, EventName = "SqliteLogClosed", Level = LogLevel.Information,
            Message = "Closed the SQLite channel log '{Path}'.")]
        public static partial void Closed(ILogger logger, string path);

        [LoggerMessage(EventId = 1202, EventName = "SqliteBatchFailed", Level = LogLevel.Error,
            Message = "The SQLite channel log '{Path}' failed to commit a batch of {Count} operations; they were failed and rolled back.")]
        public static partial void BatchFailed(ILogger logger, string path, int count, Exception exception);

        [LoggerMessage(EventId = 1203, EventName = "SqliteRollbackFailed", Level = LogLevel.Error,
            Message = "The SQLite channel log '{Path}' failed to roll back a failed batch.")]
        public static partial void RollbackFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 1204, EventName = "SqliteSinkFailed", Level = LogLevel.Error,
            Message = "The publication sink threw for {Channel} offset {Offset}; the publication is committed.")]
        public static partial void SinkFailed(ILogger logger, string channel, long offset, Exception exception);

        [LoggerMessage(EventId = 1206, EventName = "SqliteWriterStopped", Level = LogLevel.Critical,
            Message = "The writer of the SQLite channel log '{Path}' stopped; appends fail until the log is reopened.")]
        public static partial void WriterStopped(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 1205, EventName = "SqlitePingFailed", Level = LogLevel.Warning,
            Message = "The SQLite channel log '{Path}' did not answer a ping.")]
        public static partial void PingFailed(ILogger logger, string path, Exception exception);
    }
}
