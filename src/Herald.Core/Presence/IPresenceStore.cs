namespace Herald.Presence;

/// <summary>
/// Where a deployment keeps who is present on each channel, shared by every node: the in-process
/// store for one node, Redis for several. One spec suite (<c>PresenceStoreSpec</c>) runs against each.
/// </summary>
/// <remarks>
/// A store numbers each visible change of a channel's list (a join, a leave, an info or status
/// update) as one diff with contiguous numbers, keeps the last ones for resuming clients, and
/// publishes each diff (event <see cref="PresenceEvents.Diff"/>) and each counts-only change
/// (<see cref="PresenceEvents.Count"/>) to every node in the order it numbered them. Connection
/// counts changing without a visible change (a second tab, a reconnect within the grace) are not
/// diffs: a reconnect storm costs the others nothing.
/// </remarks>
public interface IPresenceStore
{
    /// <summary>
    /// Applies one node's coalesced changes of a channel atomically; publishes the diff they make, if
    /// any, and tells the caller (only) what they changed (<see cref="PresenceApplied.Transition"/>).
    /// </summary>
    ValueTask<PresenceApplied> ApplyAsync(string channel, IReadOnlyList<PresenceChange> changes, PresenceLimits limits, CancellationToken cancellationToken = default);

    /// <summary>One page of the member list, ordered by user id, after <paramref name="afterUser"/>.</summary>
    ValueTask<PresencePage> ReadAsync(string channel, string? afterUser, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The encoded diffs after <paramref name="afterSeq"/> in <paramref name="epoch"/>, in order; null
    /// when they cannot all be given (another epoch, or older than the kept window): the client
    /// then gets a snapshot.
    /// </summary>
    ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>?> ReadDiffsAsync(string channel, string epoch, long afterSeq, CancellationToken cancellationToken = default);

    /// <summary>Per user asked, the number of connections they have open on any channel (0: offline).</summary>
    ValueTask<IReadOnlyDictionary<string, int>> OnlineAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default);

    /// <summary>
    /// Periodic work of a node: renews its lease, applies leaves whose grace or lease ended, and
    /// sweeps the connections of nodes whose lease expired (their users leave). Returns the leaves
    /// applied and the transitions they made: those this call made, none that another node's call made.
    /// </summary>
    ValueTask<PresenceMaintenance> MaintainAsync(string node, PresenceLimits limits, CancellationToken cancellationToken = default);
}

/// <summary>The limits a store applies, from the namespace policy and the node settings.</summary>
/// <param name="ResumeDiffs">Diffs kept per channel for resuming clients.</param>
/// <param name="NodeLease">How long a node's connections count as present without the node renewing its lease.</param>
public readonly record struct PresenceLimits(int ResumeDiffs, TimeSpan NodeLease)
{
    public static PresenceLimits Default { get; } = new(500, TimeSpan.FromSeconds(15));
}
