namespace Herald.Hub;

/// <summary>
/// Moves a session's outbound bytes to one connection. Transports only move bytes: every message
/// in a batch is already encoded in <see cref="Format"/>.
/// </summary>
/// <remarks>
/// The session calls <see cref="WriteAsync"/> from a single writer loop, never concurrently, and
/// <see cref="CloseAsync"/> once, after the last write has returned.
/// </remarks>
public interface ISessionTransport
{
    /// <summary>The wire format every message handed to this transport is encoded in.</summary>
    WireFormat Format { get; }

    /// <summary>Which transport this is (<c>ws</c>, <c>sse</c>, <c>stream</c>), for metrics and logs.</summary>
    string Transport => "other";

    /// <summary>
    /// Writes every message of <paramref name="batch"/>, in order, then flushes once. The framing is
    /// the transport's: WebSocket may join N JSON messages with <c>'\n'</c> into one frame; SSE and
    /// NDJSON messages are complete and are written back to back.
    /// </summary>
    /// <param name="batch">
    /// The messages. The list is reused once the returned task completes, so do not keep it; the
    /// buffers themselves are immutable and shared between sessions, so they must not be written to.
    /// </param>
    /// <param name="cancellationToken">
    /// Cancelled when the session closes (a slow consumer's write never completes otherwise):
    /// implementations must honour it.
    /// </param>
    ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken);

    /// <summary>Ends the connection, telling the client <paramref name="reason"/> when the transport can.</summary>
    ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken);
}
