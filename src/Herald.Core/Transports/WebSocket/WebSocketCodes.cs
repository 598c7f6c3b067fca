using Herald.Hub;

namespace Herald.Transports.WebSocket;

/// <summary>
/// Close reasons the WebSocket transport adds to <see cref="DisconnectReason"/>'s, and the stable
/// <c>code</c> strings of its error replies (docs/protocol.md lists both).
/// </summary>
internal static class WebSocketCodes
{
    /// <summary>1003: the client sent a binary message; the protocol is JSON text only.</summary>
    public static DisconnectReason UnsupportedData { get; } = new(1003, "binary messages are not supported", false);

    /// <summary>1009: an inbound message exceeded <see cref="TransportOptions.MaxWebSocketMessageBytes"/>.</summary>
    public static DisconnectReason MessageTooBig { get; } = new(1009, "message too big", false);

    /// <summary>3011: nothing (not even a pong) arrived for <see cref="TransportOptions.WebSocketIdleTimeout"/>.</summary>
    public static DisconnectReason IdleTimeout { get; } = new(3011, "idle timeout", true);

    public const string BadRequest = "bad_request";
    public const string UnknownOp = "unknown_op";
    public const string InvalidChannel = "invalid_channel";
    public const string InvalidCursor = "invalid_cursor";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string AlreadySubscribed = "already_subscribed";
    public const string NotSubscribed = "not_subscribed";
    public const string TooManyChannels = "too_many_channels";
    public const string MessageTooLarge = "message_too_large";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string EngineUnavailable = "engine_unavailable";
    public const string SignalsDisabled = "signals_disabled";
    public const string RateLimited = "rate_limited";
    public const string NotPresent = "not_present";
    public const string TypingDisabled = "typing_disabled";
    public const string InternalError = "internal_error";
    public const string InvalidMentions = "invalid_mentions";
    public const string InvalidOffset = "invalid_offset";
    public const string EpochMismatch = "epoch_mismatch";
    public const string ReceiptsDisabled = "receipts_disabled";
}
