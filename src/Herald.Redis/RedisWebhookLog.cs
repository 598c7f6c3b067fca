using Microsoft.Extensions.Logging;

namespace Herald.Redis;

/// <summary>The Redis webhook store's log events (2150–2199, within the engine's 2100–2199).</summary>
internal static partial class RedisWebhookLog
{
    [LoggerMessage(EventId = 2150, Level = LogLevel.Warning, EventName = "RedisWebhookPumpFailed",
        Message = "Making webhook deliveries from the Redis outbox failed; the entries wait in their streams and are tried every second (reported once until it works again).")]
    public static partial void PumpFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2151, Level = LogLevel.Warning, EventName = "RedisWebhookRenewFailed",
        Message = "Renewing the leases of the webhook deliveries this node attempts failed (reported once until it works again); a lease that runs out lets another node send the delivery again (same webhook-id).")]
    public static partial void RenewFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2152, Level = LogLevel.Warning, EventName = "RedisWebhookReloadFailed",
        Message = "Reading the webhook subscriptions from Redis failed; the next append refused as stale, change message or reconnect reads them again.")]
    public static partial void ReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2153, Level = LogLevel.Warning, EventName = "RedisWebhookReclaimed",
        Message = "{Count} outbox entries of partition {Partition} were left pending by a materialization that did not finish; this node took them over (XAUTOCLAIM) and made their deliveries.")]
    public static partial void Reclaimed(ILogger logger, long count, int partition);

    [LoggerMessage(EventId = 2154, Level = LogLevel.Information, EventName = "RedisWebhookReleaseFailed",
        Message = "Giving back the leases of webhook deliveries at shutdown failed; other nodes take them when the leases run out.")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception);
}
