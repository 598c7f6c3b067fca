using Microsoft.Extensions.Logging;

namespace Herald.Webhooks.Outbound;

internal sealed partial class DeliveryWorker
{
    /// <summary>Event ids 1800–1899 belong to outbound webhooks.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1800, EventName = "WebhookDeadLettered", Level = LogLevel.Warning,
            Message = "Webhook delivery {DeliveryId} to subscription {Subscription} dead-lettered after attempt {Attempt}: {Error}")]
        public static partial void DeadLettered(ILogger logger, long deliveryId, string subscription, int attempt, string? error);

        [LoggerMessage(EventId = 1801, EventName = "WebhookSubscriptionGone", Level = LogLevel.Warning,
            Message = "Webhook subscription {Subscription} disabled: {Url} answered 410 Gone")]
        public static partial void SubscriptionGone(ILogger logger, string subscription, string url);

        [LoggerMessage(EventId = 1802, EventName = "WebhookAttemptFailed", Level = LogLevel.Error,
            Message = "Webhook delivery {DeliveryId} to subscription {Subscription}: the attempt's outcome could not be recorded; it stays pending")]
        public static partial void AttemptFailed(ILogger logger, long deliveryId, string subscription, Exception exception);

        [LoggerMessage(EventId = 1803, EventName = "WebhookTakeFailed", Level = LogLevel.Error,
            Message = "Webhook subscription {Subscription}: reading its due deliveries failed; retrying in a second")]
        public static partial void TakeFailed(ILogger logger, string subscription, Exception exception);

        [LoggerMessage(EventId = 1804, EventName = "WebhookReconcileFailed", Level = LogLevel.Error,
            Message = "Reading the webhook subscriptions failed; the delivery lanes are left as they are until the next change")]
        public static partial void ReconcileFailed(ILogger logger, Exception exception);
    }
}
