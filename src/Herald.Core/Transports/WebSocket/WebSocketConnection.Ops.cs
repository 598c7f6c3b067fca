using System.Buffers;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Hub;
using Herald.Publishing;

namespace Herald.Transports.WebSocket;

internal sealed partial class WebSocketConnection
{
    /// <summary>The data of a signal sent without any.</summary>
    private static readonly ReadOnlySequence<byte> s_null = new("null"u8.ToArray());

    /// <summary>Runs each '\n'-separated request of one message, in order: replies follow request order.</summary>
    private async Task HandleMessageAsync(Session session, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _busy);
        try
        {
            while (!message.IsEmpty && session.CloseReason is null)
            {
                var end = message.Span.IndexOf((byte)'\n');
                var line = end < 0 ? message : message[..end];
                message = end < 0 ? default : message[(end + 1)..];
                if (line.Span.Trim(" \t\r"u8).IsEmpty)
                    continue;

                await HandleRequestAsync(session, line, cancellationToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _busy);
        }
    }

    private async Task HandleRequestAsync(Session session, ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
    {
        if (!WebSocketRequest.TryParse(line, out var request, out var id, out var error))
        {
            await ReplyAsync(session, WebSocketReplies.Error(id, WebSocketCodes.BadRequest, error), cancellationToken);
            return;
        }

        ReadOnlyMemory<byte>? reply;
        try
        {
            reply = request.Op switch
            {
                WebSocketOp.Subscribe => await SubscribeAsync(session, request, cancellationToken),
                WebSocketOp.Unsubscribe => Unsubscribe(session, request),
                WebSocketOp.Publish => await PublishAsync(request, cancellationToken),
                WebSocketOp.History => await HistoryAsync(request, cancellationToken),
                WebSocketOp.Ping => WebSocketReplies.Pong(request.Id),
                WebSocketOp.Pong => null,
                WebSocketOp.Signal => await SignalAsync(request, cancellationToken),
                WebSocketOp.Status => SetStatus(session, request),
                WebSocketOp.Typing => await TypingAsync(session, request, typing: true, cancellationToken),
                WebSocketOp.TypingStop => await TypingAsync(session, request, typing: false, cancellationToken),
                WebSocketOp.Read => await ReadAsync(request, cancellationToken),
                WebSocketOp.Delivered => await DeliveredAsync(request, cancellationToken),
                _ => WebSocketReplies.Error(request.Id, WebSocketCodes.UnknownOp,
                    $"Unknown op '{request.OpText}': expected subscribe, unsubscribe, publish, history, signal, status, typing, typing_stop, read, delivered, ping or pong."),
            };
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException
            && (session.CloseReason is not null || cancellationToken.IsCancellationRequested))
        {
            // The session closed under the op (slow consumer, shutdown, lost history): nothing to answer.
            return;
        }
#pragma warning disable CA1031 // A failing op (the store is down) answers an error; the connection stays up.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.OpFailed(_services.Logger, session.Id, request.OpText ?? string.Empty, e);
            reply = WebSocketReplies.Error(request.Id, WebSocketCodes.InternalError, "The server failed to handle the request; it has been logged.");
        }

        if (reply is { } bytes)
            await ReplyAsync(session, bytes, cancellationToken);
    }

    /// <summary>
    /// Queues a reply, waiting while the session's queue is full rather than closing it: the
    /// client paces its own requests, and an unread reply backs up into its socket, not the heap.
    /// </summary>
    private static async ValueTask ReplyAsync(Session session, ReadOnlyMemory<byte> reply, CancellationToken cancellationToken) =>
        await session.Queue.EnqueueWhenSpaceAsync(new OutboundMessage(reply), cancellationToken);

    private async ValueTask<ReadOnlyMemory<byte>?> SubscribeAsync(Session session, WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (Refuse(request, ChannelOperation.Subscribe) is { } refused)
            return refused;

        var channel = request.Channel!;
        if (request.Summary)
            return await SubscribeSummaryAsync(session, request, cancellationToken);
        if (IsSummarized(channel))
            return WebSocketReplies.Error(id, WebSocketCodes.AlreadySubscribed, $"This connection already follows '{channel}' as a summary: unsubscribe first.");
        if (request.Since is not null && request.Cursor is not null)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "Send either 'since' or 'cursor', not both.");

        var since = request.Since;
        if (request.Cursor is not null)
        {
            if (!Cursor.TryDecode(request.Cursor, [channel], out var positions, out var cursorError))
                return WebSocketReplies.Error(id, WebSocketCodes.InvalidCursor, cursorError);
            since = positions.TryGetValue(channel, out var position) ? position : null;
        }

        if (session.IsSubscribed(channel))
            return WebSocketReplies.Error(id, WebSocketCodes.AlreadySubscribed, $"This connection is already subscribed to '{channel}'.");

        var max = _services.Options.Transports.MaxChannelsPerConnection;
        if (session.GetChannels().Count >= max)
            return WebSocketReplies.Error(id, WebSocketCodes.TooManyChannels, $"A connection may subscribe to at most {max} channels.");

        var presence = _services.Presence;
        if (request.PresenceSince is not null && request.Presence != Presence.PresenceMode.List)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "'presenceSince' resumes a \"list\" presence subscription: send it with \"presence\":\"list\".");

        // The reply is queued by the session before any publication of the channel (and before the
        // replay), so the client learns 'recovered' first.
        var policy = _services.Options.PolicyFor(channel);
        await session.SubscribeAsync(channel, since, _services.Log, result => WebSocketReplies.Subscribed(id, channel, result, policy.Typing ? policy : null), cancellationToken);
        if (policy.Typing && _services.Typing.Typers(channel) is { Count: > 0 } typers)
            session.TrySend(Typing.TypingService.Encode(channel, typers, policy.TypingListLimit));

        // Present by default where the namespace has presence; the messages asked for follow.
        var mode = presence.Allowed(channel, _caller, request.Presence ?? Presence.PresenceMode.Enter);
        await presence.AttachAsync(session, channel, mode, request.PresenceSince, announce: request.Presence is not null, cancellationToken);
        if (request.Receipts)
            await _services.Receipts.AttachAsync(session, channel, cancellationToken);
        return null;
    }

    /// <summary>The <c>typing</c> (start or refresh) and <c>typing_stop</c> ops.</summary>
    private async ValueTask<ReadOnlyMemory<byte>?> TypingAsync(Session session, WebSocketRequest request, bool typing, CancellationToken cancellationToken)
    {
        if (!TryValidateChannel(request, out var invalid))
            return invalid;

        var channel = request.Channel!;
        var service = _services.Typing;
        switch (service.Check(channel, _caller))
        {
            case Typing.TypingError.Disabled:
                return WebSocketReplies.Error(request.Id, WebSocketCodes.TypingDisabled, $"Typing is off on '{channel}': its namespace does not enable it (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:Typing).");
            case Typing.TypingError.NotAUser:
                return WebSocketReplies.Error(request.Id, WebSocketCodes.Unauthorized, "Typing is said by a user: connect with a user token.");
            case Typing.TypingError.Forbidden:
                return WebSocketReplies.Error(request.Id, WebSocketCodes.Forbidden, $"This user may not subscribe to '{channel}', so may not type there.");
        }

        try
        {
            await service.SetAsync(channel, _caller.User!, typing, session.Id, cancellationToken);
        }
        catch (EngineUnavailableException e)
        {
            return WebSocketReplies.Error(request.Id, WebSocketCodes.EngineUnavailable, e.Message);
        }

        return WebSocketReplies.TypingSet(request.Id, channel, typing);
    }

    /// <summary>The <c>status</c> op: the user's presence status on a channel they are present on.</summary>
    private ReadOnlyMemory<byte> SetStatus(Session session, WebSocketRequest request)
    {
        if (!TryValidateChannel(request, out var invalid))
            return invalid;

        var channel = request.Channel!;
        return _services.Presence.SetStatus(session, channel, request.Status) switch
        {
            Presence.PresenceStatusResult.Set => WebSocketReplies.StatusSet(request.Id, channel),
            Presence.PresenceStatusResult.TooLarge => WebSocketReplies.Error(request.Id, WebSocketCodes.MessageTooLarge,
                $"The status is longer than {_services.Options.PolicyFor(channel).MaxPresenceStatusBytes} bytes (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:MaxPresenceStatusBytes)."),
            Presence.PresenceStatusResult.RateLimited => WebSocketReplies.Error(request.Id, WebSocketCodes.RateLimited, "At most one status change a second per channel; this one was dropped."),
            _ => WebSocketReplies.Error(request.Id, WebSocketCodes.NotPresent, $"This connection is not present on '{channel}' as a user: subscribe to it with presence (a user token, on a namespace with Presence) first."),
        };
    }

    private ReadOnlyMemory<byte> Unsubscribe(Session session, WebSocketRequest request)
    {
        if (!TryValidateChannel(request, out var invalid))
            return invalid;

        var channel = request.Channel!;
        if (UnsubscribeSummary(session, channel))
            return WebSocketReplies.Unsubscribed(request.Id, channel);
        return session.Unsubscribe(channel)
            ? WebSocketReplies.Unsubscribed(request.Id, channel)
            : WebSocketReplies.Error(request.Id, WebSocketCodes.NotSubscribed, $"This connection is not subscribed to '{channel}'.");
    }

    /// <summary>The publish service, as <c>POST /v1/channels/{channel}/messages</c>; <c>from</c> is the token's user.</summary>
    private async ValueTask<ReadOnlyMemory<byte>?> PublishAsync(WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (request.Channel is null)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "'channel' is required.");
        if (request.Data is not { } data)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "'data' is required (any JSON value).");

        var result = await _services.Publisher.PublishAsync(
            new PublishRequest
            {
                Channel = request.Channel,
                Caller = _caller,
                Data = new ReadOnlySequence<byte>(data),
                Type = request.Type,
                IdempotencyKey = request.IdempotencyKey,
                Mentions = request.Mentions,
            },
            cancellationToken);

        return result.Error switch
        {
            PublishError.None => WebSocketReplies.Published(id, result.Publication!, result.Duplicate),
            PublishError.InvalidChannel => ChannelError(id, result.Message, result.Canonical),
            PublishError.Unauthorized => WebSocketReplies.Error(id, WebSocketCodes.Unauthorized, result.Message),
            PublishError.Forbidden => WebSocketReplies.Error(id, WebSocketCodes.Forbidden, result.Message),
            PublishError.TooLarge => WebSocketReplies.Error(id, WebSocketCodes.MessageTooLarge, result.Message),
            PublishError.IdempotencyKeyReused => WebSocketReplies.Error(id, WebSocketCodes.IdempotencyKeyReused, result.Message),
            PublishError.EngineUnavailable => WebSocketReplies.Error(id, WebSocketCodes.EngineUnavailable, result.Message),
            PublishError.InvalidMentions => WebSocketReplies.Error(id, WebSocketCodes.InvalidMentions, result.Message),
            _ when ActionErrors.Of(result.Error) is { } action => WebSocketReplies.Error(id, action.Code, result.Message),
            _ => WebSocketReplies.Error(id, WebSocketCodes.BadRequest, result.Message),
        };
    }

    /// <summary>The signal service, as <c>POST /v1/channels/{channel}/signals</c>; limited per connection and channel.</summary>
    private async ValueTask<ReadOnlyMemory<byte>?> SignalAsync(WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (request.Channel is null)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "'channel' is required.");
        var data = request.Data is { } given ? new ReadOnlySequence<byte>(given) : s_null;
        _signalBuckets ??= new SignalRateLimiter(_services.Time);
        var result = await _services.Signals.SendAsync(request.Channel, _caller, request.Name, data, _signalBuckets, request.Channel, cancellationToken);
        return result.Error switch
        {
            SignalError.None => WebSocketReplies.Signaled(id, request.Channel),
            SignalError.InvalidChannel => ChannelError(id, result.Message, result.Canonical),
            SignalError.Unauthorized => WebSocketReplies.Error(id, WebSocketCodes.Unauthorized, result.Message),
            SignalError.Forbidden => WebSocketReplies.Error(id, WebSocketCodes.Forbidden, result.Message),
            SignalError.Disabled => WebSocketReplies.Error(id, WebSocketCodes.SignalsDisabled, result.Message),
            SignalError.TooLarge => WebSocketReplies.Error(id, WebSocketCodes.MessageTooLarge, result.Message),
            SignalError.RateLimited => WebSocketReplies.Error(id, WebSocketCodes.RateLimited, result.Message),
            SignalError.EngineUnavailable => WebSocketReplies.Error(id, WebSocketCodes.EngineUnavailable, result.Message),
            _ => WebSocketReplies.Error(id, WebSocketCodes.BadRequest, result.Message),
        };
    }

    /// <summary>The same window as <c>GET /v1/channels/{channel}/messages?after=&amp;limit=&amp;reverse=</c>.</summary>
    private async ValueTask<ReadOnlyMemory<byte>?> HistoryAsync(WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        if (Refuse(request, ChannelOperation.Subscribe) is { } refused)
            return refused;

        var channel = request.Channel!;
        var maxLimit = _services.Options.MaxHistoryLimit;
        var after = request.After ?? 0;
        var limit = request.Limit ?? Math.Min(ChannelLogExtensions.DefaultHistoryLimit, maxLimit);
        if (after < 0)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "'after' must be a non-negative offset.");
        if (limit < 1 || limit > maxLimit)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, $"'limit' must be from 1 to {maxLimit}.");
        if (!LatestHistory.TryParseView(request.View, out var latest))
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, LatestHistory.ViewError);

        var state = await _services.Log.GetStateAsync(channel, cancellationToken);
        if (latest)
            return WebSocketReplies.LatestHistory(id, channel, state, await LatestHistory.ReadAsync(_services.Log, channel, state, after, (int)limit, request.Reverse == true, _services.Options.PolicyFor(channel), cancellationToken));
        var publications = await _services.Log.ReadWindowAsync(channel, after, (int)limit, request.Reverse == true, cancellationToken);
        return WebSocketReplies.History(id, channel, state, publications);
    }

    /// <summary>Validates the channel and the caller's access to it; the error reply when refused.</summary>
    private ReadOnlyMemory<byte>? Refuse(WebSocketRequest request, ChannelOperation operation)
    {
        if (!TryValidateChannel(request, out var invalid))
            return invalid;

        var channel = request.Channel!;
        if (ChannelAccess.Check(_services.Options, channel, _caller, operation) is not { } refused)
            return null;

        // Not a conditional expression: 'null' would convert to an empty ReadOnlyMemory through byte[].
        return WebSocketReplies.Error(request.Id, refused.Code, refused.Message, refused.Canonical);
    }

    /// <summary>A channel the service refused by name: <c>non_canonical_channel</c> with the name to use, or <c>invalid_channel</c>.</summary>
    private static ReadOnlyMemory<byte> ChannelError(RequestId id, string message, string? canonical) =>
        WebSocketReplies.Error(id, Denial.ChannelName(message, canonical).Code, message, canonical);

    private static bool TryValidateChannel(WebSocketRequest request, out ReadOnlyMemory<byte> error)
    {
        if (request.Channel is null)
        {
            error = WebSocketReplies.Error(request.Id, WebSocketCodes.BadRequest, "'channel' is required.");
            return false;
        }

        if (!ChannelName.TryValidate(request.Channel, out var channelError))
        {
            error = WebSocketReplies.Error(request.Id, WebSocketCodes.InvalidChannel, channelError);
            return false;
        }

        error = default;
        return true;
    }
}
