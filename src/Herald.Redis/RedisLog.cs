using Microsoft.Extensions.Logging;

namespace Herald.Redis;

/// <summary>The Redis engine's log events (2100–2199).</summary>
internal static partial class RedisLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Warning, EventName = "RedisEraRotated",
        Message = "Redis partition {Partition} moved from era {Seen} to {Next}: {Reason}. Its channels restart in new epochs; clients holding positions in them are told to reset.")]
    public static partial void EraRotated(ILogger logger, int partition, string seen, string next, string reason);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, EventName = "RedisSinkFailed",
        Message = "Telling the sink about '{Channel}' offset {Offset} failed.")]
    public static partial void SinkFailed(ILogger logger, string channel, long offset, Exception exception);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, EventName = "RedisRestartRotated",
        Message = "Redis restarted (run id {RunId}) with persistence that may have lost acknowledged writes ({Persistence}): {Partitions} partitions moved to new eras, so clients resuming in them are told to reset.")]
    public static partial void RestartRotated(ILogger logger, string runId, string persistence, long partitions);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, EventName = "RedisLossyPersistence",
        Message = "Redis persistence is {Persistence}: acknowledged publishes can be lost if Redis restarts or fails over (use appendonly yes with appendfsync always for none to be; see docs/scaling.md).")]
    public static partial void LossyPersistence(ILogger logger, string persistence);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, EventName = "RedisPersistence",
        Message = "Redis persistence is {Persistence}: an acknowledged publish survives a Redis restart.")]
    public static partial void Persistence(ILogger logger, string persistence);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, EventName = "RedisUnavailable",
        Message = "Redis connection lost ({Type}: {Failure}); publishes answer 503 engine_unavailable until it is back.")]
    public static partial void ConnectionFailed(ILogger logger, StackExchange.Redis.ConnectionType type, StackExchange.Redis.ConnectionFailureType failure);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Information, EventName = "RedisRestored",
        Message = "Redis connection restored ({Type}).")]
    public static partial void ConnectionRestored(ILogger logger, StackExchange.Redis.ConnectionType type);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, EventName = "RedisRestartCheckFailed",
        Message = "Checking whether Redis restarted failed; the next reconnect tries again.")]
    public static partial void RestartCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Warning, EventName = "RedisBadMessage",
        Message = "A message on pub/sub channel {Channel} could not be decoded and was dropped (the node's top check repairs what it carried).")]
    public static partial void BadMessage(ILogger logger, string channel);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Warning, EventName = "RedisInfoRefused",
        Message = "Redis refused {Command} ({Failure}): restarts are detected by write counters only, and persistence is assumed to lose writes.")]
    public static partial void InfoRefused(ILogger logger, string command, string failure);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Critical, EventName = "RedisLayoutMismatch",
        Message = "The data under prefix '{Prefix}' was written with {Written} partitions; this node has Herald:Redis:Partitions={Configured}. It refuses every append and reads not ready until the setting matches (every node of a deployment must use the same count).")]
    public static partial void LayoutMismatch(ILogger logger, string prefix, string written, int configured);
}
