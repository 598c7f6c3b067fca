using Microsoft.Extensions.Logging;

namespace Herald.Transports.Push;

internal sealed partial class PushHost
{
    // 1500–1519: the push transports (SSE, HTTP streaming).
    private static partial class Log
    {
        [LoggerMessage(EventId = 1500, Level = LogLevel.Debug, EventName = "PushOpened",
            Message = "{Transport} session {SessionId} opened on {ChannelCount} channel(s).")]
        public static partial void Opened(ILogger logger, string transport, string sessionId, int channelCount);

        [LoggerMessage(EventId = 1501, Level = LogLevel.Debug, EventName = "PushClosed",
            Message = "{Transport} session {SessionId} ended ({Code}).")]
        public static partial void Closed(ILogger logger, string transport, string sessionId, int code);
    }
}
