namespace Herald.Engine;

/// <summary>
/// Carries what happens on a channel to every node that has local interest in it: committed
/// publications (whose positions the <see cref="IChannelLog"/> assigned — a broker never assigns
/// one) and ephemeral events that are never stored. One per node; the node is its only handler.
/// </summary>
/// <remarks>
/// A broker may lose, repeat or reorder publications between nodes (a dropped Redis connection,
/// a reconnect that replays); the node's sequencer repairs every such case from the log, so a
/// broker only promises to try, and to say so through <see cref="IBrokerHandler.OnReconnected"/>
/// when it may have missed something.
/// </remarks>
public interface IBroker : IAsyncDisposable
{
    /// <summary>Connects the broker to this node's handler; called once, before any subscribe.</summary>
    void Start(IBrokerHandler handler);

    /// <summary>
    /// Starts receiving the channel's publications and events on this node. Completes once the
    /// engine confirmed the subscription: everything committed after that reaches the handler.
    /// </summary>
    ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>Stops receiving the channel on this node (what is in flight may still arrive).</summary>
    ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends an ephemeral event (presence diff, typing, signal) to every node subscribed to its
    /// channel, this one included. Never stored, never numbered by the log.
    /// </summary>
    ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default);

    /// <summary>
    /// False when every committed publication reaches the handler, in offset order, as long as the
    /// process lives (the in-process broker): the node then skips its periodic re-check of idle
    /// channels' tops, which only a broker that can lose messages needs.
    /// </summary>
    bool MayLoseMessages { get; }
}

/// <summary>What a node does with what its broker receives. Implementations must not block: they queue.</summary>
public interface IBrokerHandler
{
    /// <summary>A committed publication of a channel this node subscribed.</summary>
    void OnPublication(Publication publication);

    /// <summary>An ephemeral event of a channel this node subscribed.</summary>
    void OnEvent(ChannelEvent channelEvent);

    /// <summary>
    /// The broker's connection came back (or was replaced) and every subscription is active again;
    /// publications committed meanwhile may have been missed: re-read the tops.
    /// </summary>
    void OnReconnected();
}

/// <summary>An ephemeral message on a channel: not stored, not numbered.</summary>
/// <param name="Channel">The channel it belongs to.</param>
/// <param name="Kind">What it is (for example <c>presence</c>, <c>typing</c>, <c>signal</c>).</param>
/// <param name="Payload">Its content, as the feature that sent it encoded it (compact JSON).</param>
public sealed record ChannelEvent(string Channel, string Kind, ReadOnlyMemory<byte> Payload);
