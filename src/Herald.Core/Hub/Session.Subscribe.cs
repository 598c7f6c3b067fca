using Herald.Engine;

namespace Herald.Hub;

public sealed partial class Session
{
    /// <summary>History is replayed in pages of this many publications (the default <see cref="HeraldOptions.MaxHistoryLimit"/>).</summary>
    public const int HistoryPageSize = 1000;

    /// <inheritdoc cref="SubscribeAsync(string, Position?, IChannelLog, Func{SubscribeResult, ReadOnlyMemory{byte}}?, CancellationToken)"/>
    public ValueTask<SubscribeResult> SubscribeAsync(string channel, Position? since, IChannelLog log, CancellationToken cancellationToken = default) =>
        SubscribeAsync(channel, since, log, reply: null, cancellationToken);

    /// <summary>
    /// Subscribes to <paramref name="channel"/>, first replaying what the client missed after
    /// <paramref name="since"/>. Every publication then reaches the session once, in offset order,
    /// with no gap, even while publishes race this call.
    /// </summary>
    /// <param name="channel">A valid channel name; the caller has authorized it.</param>
    /// <param name="since">
    /// The client's last seen position. <c>null</c>: no history, live from now (<c>Recovered</c> is
    /// true: nothing was missed because nothing was asked for). Offset 0: from the beginning, in any
    /// epoch (recovered while offset 1 is still retained). Otherwise recovered when the epoch is the
    /// channel's current one and the next offset is still retained; if not, nothing from history
    /// is sent and the subscription starts live after the current top (see <see cref="SubscribeResult.Recovered"/>).
    /// </param>
    /// <param name="log">The channel log to read history from.</param>
    /// <param name="reply">
    /// Builds the subscribe reply (encoded in <see cref="Format"/>) from the result; it is queued
    /// before any publication of the channel, so the client learns <c>recovered</c> first.
    /// </param>
    /// <param name="cancellationToken">Cancels the subscribe.</param>
    /// <exception cref="InvalidOperationException">The session is already subscribed to the channel, or is closed.</exception>
    /// <exception cref="OperationCanceledException">
    /// Cancelled, or the session closed meanwhile (slow consumer, or
    /// <see cref="DisconnectReason.InsufficientState"/> when history was lost during the replay).
    /// </exception>
    public async ValueTask<SubscribeResult> SubscribeAsync(
        string channel,
        Position? since,
        IChannelLog log,
        Func<SubscribeResult, ReadOnlyMemory<byte>>? reply,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(log);

        var subscription = new Subscription(this, channel);
        lock (_gate)
        {
            if (_closed.Task.IsCompleted)
                throw new InvalidOperationException("The session is closed.");
            if (IndexOf(channel) >= 0)
                throw new InvalidOperationException($"The session is already subscribed to '{channel}'.");
            if (_subscriptionCount == _subscriptions.Length)
                Array.Resize(ref _subscriptions, Math.Max(1, _subscriptionCount * 2));
            _subscriptions[_subscriptionCount++] = subscription;
        }

        // Registered (buffering) before the log is read: once the node follows the channel, whatever
        // is appended reaches the buffer, so history up to the state read below plus the buffer
        // leaves no gap.
        var following = _hub.Add(subscription);
        var live = false;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closingToken);
            var token = linked.Token;
            if (!following.IsCompletedSuccessfully)
                await following.WaitAsync(token).ConfigureAwait(false);
            var state = await log.GetStateAsync(channel, token);
            var result = new SubscribeResult(CanRecover(since, state), state);

            if (reply is not null && !await _queue.EnqueueWhenSpaceAsync(new OutboundMessage(reply(result)), token))
                throw SessionClosed();

            if (result.Recovered && since is { } from && from.Offset < state.Top)
                await ReplayAsync(subscription, log, from.Offset, state, token);

            subscription.StartAt(state.Epoch, state.Top);
            subscription.GoLive();
            live = true;
            return result;
        }
        finally
        {
            if (!live)
                RemoveSubscription(subscription);
        }
    }

    /// <summary>Stops delivery on <paramref name="channel"/>; nothing of it is queued after this returns.</summary>
    /// <returns>False when the session was not subscribed.</returns>
    public bool Unsubscribe(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        Subscription subscription;
        lock (_gate)
        {
            var index = IndexOf(channel);
            if (index < 0)
                return false;
            subscription = _subscriptions[index];
            RemoveAt(index);
        }

        subscription.Stop();
        _hub.Remove(subscription);
        return true;
    }

    public bool IsSubscribed(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        lock (_gate)
            return IndexOf(channel) >= 0;
    }

    /// <summary>The channels this session is subscribed to (a snapshot).</summary>
    public IReadOnlyList<string> GetChannels()
    {
        lock (_gate)
        {
            var channels = new string[_subscriptionCount];
            for (var i = 0; i < channels.Length; i++)
                channels[i] = _subscriptions[i].Channel;
            return channels;
        }
    }

    internal static bool CanRecover(Position? since, StreamState state)
    {
        if (since is not { } position)
            return true;

        // Offset 0 is "before the first publication" of whatever epoch is current.
        if (position.Offset == 0)
            return state.First <= 1;

        return string.Equals(position.Epoch, state.Epoch, StringComparison.Ordinal)
            && position.Offset <= state.Top
            && position.Offset + 1 >= state.First;
    }

    /// <summary>Queues offsets after..state.Top; later ones are in the subscription's buffer.</summary>
    private async Task ReplayAsync(Subscription subscription, IChannelLog log, long after, StreamState state, CancellationToken cancellationToken)
    {
        while (after < state.Top)
        {
            var page = await log.ReadAsync(subscription.Channel, new ReadRequest(after, HistoryPageSize), cancellationToken);
            if (page.Publications.Count == 0)
                throw HistoryLost(subscription.Channel, after);

            foreach (var publication in page.Publications)
            {
                // Retention or a removal overtook the replay: sending on would leave a gap the
                // reply already promised would not exist.
                if (publication.Offset != after + 1 || !string.Equals(publication.Epoch, state.Epoch, StringComparison.Ordinal))
                    throw HistoryLost(subscription.Channel, after);

                if (publication.Offset > state.Top)
                    return;

                if (subscription.IsStopped)
                    return;

                var bytes = PublicationEncoder.Encode(publication, Format);
                if (!await _queue.EnqueueWhenSpaceAsync(new OutboundMessage(bytes, publication), cancellationToken))
                    throw SessionClosed();
                after = publication.Offset;
            }
        }
    }

    private OperationCanceledException HistoryLost(string channel, long after)
    {
        Log.RecoveryFailed(_logger, Id, channel, after);
        BeginClose(DisconnectReason.InsufficientState);
        return SessionClosed();
    }

    private OperationCanceledException SessionClosed() =>
        new($"Session {Id} closed ({CloseReason?.Reason ?? "closing"}).", _closingToken);

    private void RemoveSubscription(Subscription subscription)
    {
        lock (_gate)
        {
            var index = IndexOf(subscription.Channel);
            if (index >= 0 && ReferenceEquals(_subscriptions[index], subscription))
                RemoveAt(index);
        }

        subscription.Stop();
        _hub.Remove(subscription);
    }

    /// <summary>Under <see cref="_gate"/>.</summary>
    private int IndexOf(string channel)
    {
        for (var i = 0; i < _subscriptionCount; i++)
        {
            if (string.Equals(_subscriptions[i].Channel, channel, StringComparison.Ordinal))
                return i;
        }

        return -1;
    }

    /// <summary>Under <see cref="_gate"/>; order does not matter, so the last one fills the hole.</summary>
    private void RemoveAt(int index)
    {
        _subscriptions[index] = _subscriptions[--_subscriptionCount];
        _subscriptions[_subscriptionCount] = null!;
    }
}
