namespace Herald.Hub;

/// <summary>
/// Why the server closed a session. Codes are stable and public (docs/protocol.md): they are the
/// WebSocket close code and the <c>code</c> of the SSE/NDJSON <c>disconnect</c> message. They live in
/// 3000–3999, the range RFC 6455 leaves to applications, and follow Centrifugo's numbering where the
/// meaning matches so that clients written against either read them the same way — its split too:
/// 3500–3999 are terminal (do not reconnect), like 3000.
/// </summary>
/// <param name="Code">Stable numeric code.</param>
/// <param name="Reason">Short machine-readable reason (≤ 123 bytes: the WebSocket close-reason limit).</param>
/// <param name="Reconnect">Whether a client should reconnect and resume from its cursor.</param>
public sealed record DisconnectReason(int Code, string Reason, bool Reconnect)
{
    /// <summary>3000: the session ended normally (client left, or the session was disposed).</summary>
    public static DisconnectReason Normal { get; } = new(3000, "connection closed", false);

    /// <summary>3001: the server is shutting down; reconnect (to another node) and resume.</summary>
    public static DisconnectReason Shutdown { get; } = new(3001, "shutdown", true);

    /// <summary>3004: an unexpected server error; reconnect and resume.</summary>
    public static DisconnectReason ServerError { get; } = new(3004, "internal server error", true);

    /// <summary>
    /// 3008: the session's outbound queue exceeded <see cref="HeraldOptions.MaxQueuedBytesPerSession"/>.
    /// The client reads too slowly; it reconnects and resumes from its cursor.
    /// </summary>
    public static DisconnectReason SlowConsumer { get; } = new(3008, "slow", true);

    /// <summary>3009: writing to the connection failed.</summary>
    public static DisconnectReason WriteError { get; } = new(3009, "write error", true);

    /// <summary>
    /// 3010: history needed to continue without a gap was lost while it was being replayed (it fell
    /// out of retention or the epoch changed). On reconnect the subscribe reply says <c>recovered: false</c>.
    /// </summary>
    public static DisconnectReason InsufficientState { get; } = new(3010, "insufficient state", true);

    /// <summary>
    /// 3020: the connection was lost without a close handshake (the client vanished, the network
    /// dropped). Never sent (there is nobody to send it to): it is what logs and presence see, and
    /// why a dropped user stays listed for the leave grace while a normal close leaves at once.
    /// </summary>
    public static DisconnectReason ConnectionLost { get; } = new(3020, "connection lost", true);

    /// <summary>
    /// 3021: the server API asked the user's sessions to reconnect (<c>POST /v1/users/{user}/disconnect</c>
    /// with <c>"reconnect": true</c>), e.g. so that they come back with a fresh token after their grants changed.
    /// </summary>
    public static DisconnectReason ForceReconnect { get; } = new(3021, "force reconnect", true);

    /// <summary>
    /// 3503: the server API disconnected the user (<c>POST /v1/users/{user}/disconnect</c>): do not
    /// reconnect. Centrifugo's code for the same, in its terminal range 3500–3999. The token stays
    /// valid: keeping the user out is the application's part (revoke it, let it expire).
    /// </summary>
    public static DisconnectReason ForceDisconnect { get; } = new(3503, "force disconnect", false);
}
