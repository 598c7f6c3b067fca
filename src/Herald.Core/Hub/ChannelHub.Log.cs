using Microsoft.Extensions.Logging;

namespace Herald.Hub;

public sealed partial class ChannelHub
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1000, Level = LogLevel.Error, EventName = "DeliveryFailed",
            Message = "Delivering a publication on '{Channel}' to session {SessionId} failed.")]
        public static partial void DeliveryFailed(ILogger logger, string channel, string sessionId, Exception exception);
    }
}
