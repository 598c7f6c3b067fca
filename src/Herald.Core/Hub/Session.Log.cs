using Microsoft.Extensions.Logging;

namespace Herald.Hub;

public sealed partial class Session
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1100, Level = LogLevel.Information, EventName = "SlowConsumer",
            Message = "Session {SessionId} ({Transport}) disconnected as a slow consumer (3008): a publication of {Channel} did not fit in its queue of {MaxQueuedBytes} bytes.")]
        public static partial void SlowConsumer(ILogger logger, string sessionId, string transport, string channel, int maxQueuedBytes);

        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, EventName = "WriteFailed",
            Message = "Session {SessionId}: writing to the transport failed.")]
        public static partial void WriteFailed(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, EventName = "TransportCloseFailed",
            Message = "Session {SessionId}: closing the transport failed.")]
        public static partial void TransportCloseFailed(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, EventName = "SessionClosed",
            Message = "Session {SessionId} closed: {Code} {Reason}.")]
        public static partial void Closed(ILogger logger, string sessionId, int code, string reason);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Information, EventName = "RecoveryFailed",
            Message = "Session {SessionId}: history of '{Channel}' after offset {After} was lost during replay.")]
        public static partial void RecoveryFailed(ILogger logger, string sessionId, string channel, long after);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, EventName = "EpochSkipped",
            Message = "Session {SessionId}: a publication of '{Channel}' at {NextEpoch}:{NextOffset} followed {Epoch}:{Offset} without a reset; the session is closed (3010) so the client resumes and is told.")]
        public static partial void EpochSkipped(ILogger logger, string sessionId, string channel, string epoch, long offset, string nextEpoch, long nextOffset);
    }
}
