using System.Buffers;
using System.Text.Json;
using Herald.Engine;
using Herald.Hub;

namespace Herald.Transports.WebSocket;

internal sealed partial class WebSocketConnection
{
    // Dropped once used: nothing of the handshake stays reachable for the connection's life.
    private PersonalPositions? _personal;

    /// <summary>
    /// Subscribes the user's personal channels (<c>me:&lt;sub&gt;</c>) before the first request is
    /// read, each answered with a <c>subscribed</c> push without <c>id</c> — so a client's own
    /// <c>subscribe</c> of it, read afterwards, is answered <c>already_subscribed</c>, never raced.
    /// </summary>
    private async Task SubscribePersonalAsync(Session session, CancellationToken cancellationToken)
    {
        if (_personal is not { } personal)
            return;
        _personal = null;

        foreach (var channel in personal.Channels)
        {
            try
            {
                await session.SubscribeAsync(channel, personal.PositionOf(channel), _services.Log,
                    result => WebSocketReplies.Subscribed(RequestId.None, channel, result), cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException
                && (session.CloseReason is not null || cancellationToken.IsCancellationRequested))
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The connection goes on without it; the client may subscribe the channel itself.
                Log.OpFailed(_services.Logger, session.Id, "subscribe " + channel, e);
                var unavailable = e is EngineUnavailableException;
                session.TrySend(ChannelError(channel,
                    unavailable ? WebSocketCodes.EngineUnavailable : WebSocketCodes.InternalError,
                    unavailable ? e.Message : "The server failed to subscribe the connection to its personal channel; it has been logged."));
            }
        }
    }

    /// <summary>An error without <c>id</c> (no request asked), naming its channel.</summary>
    private static ReadOnlyMemory<byte> ChannelError(string channel, string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "error"u8);
            writer.WriteString("code"u8, code);
            writer.WriteString("channel"u8, channel);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }
}
