using Herald.Channels;
using Herald.Reading;

namespace Herald.Transports.WebSocket;

internal sealed partial class WebSocketConnection
{
    /// <summary>
    /// <c>{"op":"read","channel","offset"?,"epoch"?,"unread"?,"private"?}</c>: the caller's read marker, as
    /// <c>PUT /v1/channels/{channel}/read</c>. Users only: a marker belongs to someone.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (Refuse(request, ChannelOperation.Subscribe) is { } refused)
            return refused;
        if (_caller.User is not { } user)
            return WebSocketReplies.Error(id, WebSocketCodes.Unauthorized, "Read markers belong to users: connect with a user's token.");

        var outcome = await _services.Unread.MarkAsync(user, request.Channel!, request.Offset, request.Epoch, request.MarkUnread, request.Private, cancellationToken);
        return outcome.Error switch
        {
            MarkError.None => WebSocketReplies.Read(id, outcome.Unread!, outcome.Changed),
            _ => Refused(id, outcome.Error, outcome.Message),
        };
    }

    /// <summary>
    /// <c>{"op":"delivered","channel","offset"?,"epoch"?}</c>: the caller's delivered marker on a
    /// channel with receipts, as <c>PUT /v1/channels/{channel}/delivered</c>.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>?> DeliveredAsync(WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (Refuse(request, ChannelOperation.Subscribe) is { } refused)
            return refused;
        if (_caller.User is not { } user)
            return WebSocketReplies.Error(id, WebSocketCodes.Unauthorized, "Delivered markers belong to users: connect with a user's token.");

        var outcome = await _services.Unread.MarkDeliveredAsync(user, request.Channel!, request.Offset, request.Epoch, cancellationToken);
        return outcome.Error switch
        {
            MarkError.None => WebSocketReplies.Delivered(id, request.Channel!, outcome.Marker, outcome.Changed),
            _ => Refused(id, outcome.Error, outcome.Message),
        };
    }

    /// <summary>The error reply to a marker (read or delivered) the service refused.</summary>
    private static ReadOnlyMemory<byte> Refused(RequestId id, MarkError error, string message) => WebSocketReplies.Error(id, error switch
    {
        MarkError.EpochMismatch => WebSocketCodes.EpochMismatch,
        MarkError.ReceiptsDisabled => WebSocketCodes.ReceiptsDisabled,
        _ => WebSocketCodes.InvalidOffset,
    }, message);
}
