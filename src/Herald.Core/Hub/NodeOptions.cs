namespace Herald.Hub;

/// <summary>How a node follows its engine's broker; bound from <c>Herald:Node</c>.</summary>
public sealed class NodeOptions
{
    /// <summary>
    /// How long the node stays subscribed to a channel after its last local subscriber or held poll
    /// left. 30 s: long enough that a poll cycle or a reconnect storm does not unsubscribe and
    /// resubscribe the broker (and re-read the top) for every client, short enough that a node does
    /// not keep following channels nobody reads.
    /// </summary>
    public TimeSpan SubscriptionLinger { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often the node re-reads the top of channels that were quiet for this long, when its broker
    /// may lose messages (not the single-node engines): a publication whose broker message was lost
    /// and that no later publication revealed is delivered at most this late. 5 s, as Centrifugo's
    /// default history-position check.
    /// </summary>
    public TimeSpan TopCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long following a channel (the broker's subscribe, after a lingering unsubscribe of it, and
    /// the top read) may take before it counts as failed: its subscribers get <c>engine_unavailable</c>
    /// and retry, the next reader starts following again, and a held poll answers from the log meanwhile.
    /// 10 s: far above a healthy Redis round trip, short enough that a subscribe lost in a reconnect
    /// never leaves a channel unfollowed on a node.
    /// </summary>
    public TimeSpan FollowTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long this node's users stay present on a shared presence store (Redis) after the node
    /// stops renewing its lease (it renews every second): a node killed with its connections open
    /// has its users leave this long after, plus nothing — the lease is longer than a leave grace.
    /// 15 s: a few missed renewals (a GC pause, a slow Redis) never evict a live node's users.
    /// </summary>
    public TimeSpan PresenceLease { get; set; } = TimeSpan.FromSeconds(15);

    internal IEnumerable<string> Validate()
    {
        if (PresenceLease < TimeSpan.FromSeconds(3) || PresenceLease > TimeSpan.FromMinutes(5))
            yield return "Herald:Node:PresenceLease must be from 3 seconds to 5 minutes.";
        if (SubscriptionLinger < TimeSpan.Zero || SubscriptionLinger > TimeSpan.FromHours(1))
            yield return "Herald:Node:SubscriptionLinger must be from 0 to 1 hour.";
        if (FollowTimeout < TimeSpan.FromMilliseconds(100) || FollowTimeout > TimeSpan.FromMinutes(5))
            yield return "Herald:Node:FollowTimeout must be from 100 ms to 5 minutes.";
        if (TopCheckInterval < TimeSpan.FromMilliseconds(100) || TopCheckInterval > TimeSpan.FromMinutes(10))
            yield return "Herald:Node:TopCheckInterval must be from 100 ms to 10 minutes.";
    }
}
