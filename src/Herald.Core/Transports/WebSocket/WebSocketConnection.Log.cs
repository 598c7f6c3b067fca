using Microsoft.Extensions.Logging;

namespace Herald.Transports.WebSocket;

internal sealed partial class WebSocketConnection
{
    // Event ids 1300–1399: the WebSocket transport.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1300, Level = LogLevel.Debug, EventName = "WebSocketConnected",
            Message = "WebSocket session {SessionId} connected (user: {User}).")]
        public static partial void Connected(ILogger logger, string sessionId, string? user);

        [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, EventName = "WebSocketReceiveEnded",
            Message = "WebSocket session {SessionId}: the connection ended without a close handshake.")]
        public static partial void ReceiveEnded(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Debug, EventName = "WebSocketCloseHandshakeFailed",
            Message = "WebSocket session {SessionId}: the close handshake did not complete; the connection was aborted.")]
        public static partial void CloseHandshakeFailed(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(EventId = 1303, Level = LogLevel.Information, EventName = "WebSocketIdleTimeout",
            Message = "WebSocket session {SessionId} closed: nothing received within the idle timeout.")]
        public static partial void IdleTimeout(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 1304, Level = LogLevel.Information, EventName = "WebSocketRefused",
            Message = "WebSocket session {SessionId} closed with {Code} ({Reason}).")]
        public static partial void Refused(ILogger logger, string sessionId, int code, string reason);

        [LoggerMessage(EventId = 1305, Level = LogLevel.Error, EventName = "WebSocketOpFailed",
            Message = "WebSocket session {SessionId}: op '{Op}' failed.")]
        public static partial void OpFailed(ILogger logger, string sessionId, string op, Exception exception);
    }
}
