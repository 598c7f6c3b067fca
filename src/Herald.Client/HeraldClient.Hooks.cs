using Herald.Client.Internal;
using Herald.Client.Transports;

namespace Herald.Client;

/// <summary>What the connection reports, routed to subscriptions and events.</summary>
public sealed partial class HeraldClient
{
    ITransportSink IConnectorHooks.SinkFor(HeraldTransport transport, Action opened) => new Sink(this, transport, opened);

    void IConnectorHooks.OnState(ConnectionState state) => Raise(StateChanged, state);

    void IConnectorHooks.OnConnecting(ConnectingEvent e) => Raise(Connecting, e);

    void IConnectorHooks.OnConnected(ConnectedEvent e) => Raise(Connected, e);

    void IConnectorHooks.OnDisconnected(DisconnectedEvent e) => Raise(Disconnected, e);

    void IConnectorHooks.OnError(HeraldException e)
    {
        try
        {
            Error?.Invoke(this, e);
        }
#pragma warning disable CA1031 // The error handler itself failed: nowhere left to report it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    async Task<int> IConnectorHooks.RemoveRefusedAsync(IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        // One history read of one publication per channel finds the channels the server refuses.
        var checks = channels.Select(async channel =>
        {
            try
            {
                await HistoryOverHttpAsync(channel, new HistoryOptions { Limit = 1 }, RawDataReader.Instance, cancellationToken).ConfigureAwait(false);
                return false;
            }
            catch (HeraldException e) when (e.Status is >= 400 and < 500)
            {
                Refuse(channel, e);
                return true;
            }
            catch (HeraldException)
            {
                return false;
            }
        });
        var refused = await Task.WhenAll(checks).ConfigureAwait(false);
        return refused.Count(r => r);
    }

    /// <summary>The server's API took the client off a channel: the subscription ends, and is not renewed.</summary>
    private void UnsubscribedByServer(string channel, string reason, HeraldTransport transport)
    {
        SubscriptionBase? subscription;
        lock (gate)
        {
            if (!subscriptions.TryGetValue(channel, out subscription))
                return;
            order.Remove(subscription);
            Publish();
        }

        connector.ChannelsChanged();
        subscription.UnsubscribedByServer(new UnsubscribedEvent(transport, reason));
    }

    /// <summary>The server refused a channel: its subscription ends with the error.</summary>
    private void Refuse(string channel, HeraldException error)
    {
        SubscriptionBase? subscription;
        lock (gate)
        {
            if (!subscriptions.TryGetValue(channel, out subscription))
                return;
            order.Remove(subscription);
            Publish();
        }

        connector.ChannelsChanged();
        subscription.Fail(error);
    }

    private void Raise<TArgs>(EventHandler<TArgs>? handler, TArgs args)
    {
        if (handler is null)
            return;
        try
        {
            handler(this, args);
        }
#pragma warning disable CA1031 // An application handler's bug must not stop the connection loop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ((IConnectorHooks)this).OnError(new HeraldException("handler", $"An application handler threw: {e.Message}", null, e));
        }
    }

    /// <summary>One session's view of the client; reads the subscription snapshots without a lock.</summary>
    private sealed class Sink(HeraldClient client, HeraldTransport transport, Action opened) : ITransportSink
    {
        public IReadOnlyList<string> Channels => Volatile.Read(ref client.channels);

        public Position? PositionOf(string channel) =>
            Volatile.Read(ref client.subscriptions).TryGetValue(channel, out var subscription) ? subscription.Position : null;

        public void Opened() => opened();

        public void Subscribed(string channel, SubscribeReply reply, bool byServer = false)
        {
            // A channel the server subscribed on its own that the client did not ask for (a personal
            // channel it auto-subscribes) is not followed: subscribe to it to receive it.
            if (byServer)
                client.serverChannels.TryAdd(channel, 0);
            if (Volatile.Read(ref client.subscriptions).TryGetValue(channel, out var subscription))
                subscription.Confirm(reply, transport);
        }

        public bool IsServerChannel(string channel) => client.serverChannels.ContainsKey(channel);

        public void Unsubscribed(string channel, string reason) => client.UnsubscribedByServer(channel, reason, transport);

        public bool Publication(ref WireMessage message) =>
            !Volatile.Read(ref client.subscriptions).TryGetValue(message.Channel!, out var subscription)
            || subscription.Deliver(ref message, transport) != AcceptOutcome.Gap;

        public void ChannelRefused(string channel, HeraldException error) => client.Refuse(channel, error);

        public (PresenceMode Mode, PresencePosition? Since)? PresenceOf(string channel) =>
            Volatile.Read(ref client.subscriptions).TryGetValue(channel, out var subscription) && subscription.Presence is { } list ? (list.Asked, list.Position) : null;

        public bool Event(string channel, ReadOnlySpan<byte> line) =>
            !Volatile.Read(ref client.subscriptions).TryGetValue(channel, out var subscription) || subscription.Handle(line);
    }
}
