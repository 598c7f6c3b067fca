using Herald.Hub;

namespace Herald.Transports.WebSocket;

internal sealed partial class WebSocketConnection
{
    /// <summary>The channels this connection follows as summaries; touched by the receive loop only (and at its end).</summary>
    private HashSet<string>? _summaries;

    private bool IsSummarized(string channel) => _summaries?.Contains(channel) == true;

    /// <summary>
    /// <c>{"op":"subscribe","channel","mode":"summary"}</c>: the channel's newest <c>{epoch, offset, n,
    /// time, from}</c>, conflated (<see cref="SummaryHub"/>), no replay, no publications. Counted
    /// apart from full subscriptions, up to <see cref="TransportOptions.MaxSummaryChannelsPerConnection"/>.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>?> SubscribeSummaryAsync(Session session, WebSocketRequest request, CancellationToken cancellationToken)
    {
        var id = request.Id;
        var channel = request.Channel!;
        if (request.Since is not null || request.Cursor is not null || request.Presence is not null)
            return WebSocketReplies.Error(id, WebSocketCodes.BadRequest, "A summary subscription has no replay and no presence: send neither 'since', 'cursor' nor 'presence'.");
        if (IsSummarized(channel) || session.IsSubscribed(channel))
            return WebSocketReplies.Error(id, WebSocketCodes.AlreadySubscribed, $"This connection already follows '{channel}'.");

        var max = _services.Options.Transports.MaxSummaryChannelsPerConnection;
        if ((_summaries?.Count ?? 0) >= max)
            return WebSocketReplies.Error(id, WebSocketCodes.TooManyChannels, $"A connection may follow at most {max} channels as summaries (Herald:Transports:MaxSummaryChannelsPerConnection).");

        (_summaries ??= new(StringComparer.Ordinal)).Add(channel);
        try
        {
            await _services.Summaries.AddAsync(channel, session).WaitAsync(cancellationToken);
            var state = await _services.Log.GetStateAsync(channel, cancellationToken);
            return WebSocketReplies.SummarySubscribed(id, channel, state);
        }
        catch
        {
            UnsubscribeSummary(session, channel);
            throw;
        }
    }

    private bool UnsubscribeSummary(Session session, string channel)
    {
        if (_summaries?.Remove(channel) != true)
            return false;
        _services.Summaries.Remove(channel, session);
        return true;
    }

    private void RemoveSummaries(Session session)
    {
        if (_summaries is null)
            return;
        foreach (var channel in _summaries)
            _services.Summaries.Remove(channel, session);
        _summaries.Clear();
    }
}
