namespace Herald.Presence;

/// <summary>
/// What a subscription asks of a channel's presence, and (as a namespace policy) the most a client
/// may ask. Each mode includes the ones before it: a <see cref="Count"/> or <see cref="List"/>
/// subscriber is also present.
/// </summary>
public enum PresenceMode
{
    /// <summary>Not present, nothing received.</summary>
    Off,

    /// <summary>Present (counted, and listed when a user), receives nothing.</summary>
    Enter,

    /// <summary>Present, and receives the channel's counts (conflated, at most one a second).</summary>
    Count,

    /// <summary>Present, and receives the member list: a snapshot, then numbered diffs.</summary>
    List,
}

/// <summary>What one connection's change is.</summary>
public enum PresenceChangeKind
{
    Join,
    Leave,

    /// <summary>The user's status text changed (the client's <c>status</c> op).</summary>
    Status,
}

/// <summary>
/// One connection's change to a channel's presence, as a node hands it to the <see cref="IPresenceStore"/>.
/// </summary>
/// <param name="Kind">Join, leave or status.</param>
/// <param name="Connection">The connection's id, unique across nodes (<c>node/session</c>, or <c>poll/user</c> for a poller's lease).</param>
/// <param name="User">The token's user; null for an anonymous connection (counted, never listed).</param>
/// <param name="Info">A join's <c>info</c> (compact JSON from the token, ≤ the namespace's limit); empty for none.</param>
/// <param name="Status">A status change's text; null clears it.</param>
/// <param name="LeaveAt">
/// A leave's deadline: when the user's last connection goes, the user stays listed until then and a
/// join before it cancels the leave (the grace). Null or past: the leave is at once.
/// </param>
/// <param name="ExpiresAt">A join of a connection that has no socket (a poller's lease): it leaves by itself then, unless joined again.</param>
public readonly record struct PresenceChange(
    PresenceChangeKind Kind,
    string Connection,
    string? User,
    ReadOnlyMemory<byte> Info = default,
    string? Status = null,
    DateTimeOffset? LeaveAt = null,
    DateTimeOffset? ExpiresAt = null);

/// <summary>A channel's counts: listed users (online or within their leave grace) and connections (anonymous ones included).</summary>
public readonly record struct PresenceCounts(int Users, int Connections)
{
    /// <summary>Someone is present: a listed user (within their leave grace too) or an open connection (anonymous ones too).</summary>
    public bool Occupied => Users > 0 || Connections > 0;
}

/// <summary>One user's presence on a channel.</summary>
/// <param name="User">The token's <c>sub</c>.</param>
/// <param name="Info">Compact JSON from the token (empty for none).</param>
/// <param name="Status">The status the client set, if any.</param>
/// <param name="Connections">Open connections of the user on the channel (0 during the leave grace).</param>
/// <param name="Since">When the user joined.</param>
public sealed record PresenceMember(string User, ReadOnlyMemory<byte> Info, string? Status, int Connections, DateTimeOffset Since);

/// <summary>One page of a channel's member list, read after the position it stands for.</summary>
/// <param name="Epoch">The channel's presence epoch (a new one whenever its presence state was lost or started again).</param>
/// <param name="Seq">The last diff number applied before the page was read: diffs after it may be in the page already, and re-applying them converges.</param>
/// <param name="Counts">The counts when the page was read.</param>
/// <param name="Members">Members ordered by user id (ordinal).</param>
/// <param name="Next">The user id to page after; null on the last page.</param>
public sealed record PresencePage(string Epoch, long Seq, PresenceCounts Counts, IReadOnlyList<PresenceMember> Members, string? Next);

/// <summary>What a store did with a batch of changes.</summary>
/// <param name="Seq">The channel's diff number after the batch (unchanged when nothing listed changed).</param>
/// <param name="Counts">The counts after the batch.</param>
/// <param name="Diffed">True when the batch produced (and published) a numbered diff.</param>
/// <param name="Transition">What the batch changed that the outside world is told of (webhooks); null when nothing.</param>
public readonly record struct PresenceApplied(long Seq, PresenceCounts Counts, bool Diffed, PresenceTransition? Transition = null);

/// <summary>What a maintenance round did.</summary>
/// <param name="Leaves">Users who left (their grace or lease ended, or their node's lease expired).</param>
/// <param name="Transitions">What those leaves changed, per channel, in the order they were applied.</param>
public sealed record PresenceMaintenance(int Leaves, IReadOnlyList<PresenceTransition> Transitions)
{
    public static PresenceMaintenance None { get; } = new(0, []);
}

/// <summary>
/// What one store call changed in a channel's presence that observers outside the node are told
/// of (outbound webhooks): the channel becoming occupied or vacated, users joining or leaving.
/// The store reports it only to the caller whose call made the change (an atomic step of the store),
/// so across every node each transition is reported exactly once.
/// </summary>
/// <param name="At">When the store applied it (its clock).</param>
/// <param name="Occupied">Nobody was present before the call and someone is after it (<see cref="PresenceCounts.Occupied"/>).</param>
/// <param name="Vacated">Someone was present before the call and nobody is after it: the last one left, after their grace.</param>
/// <param name="Joined">Users who became listed, with their info.</param>
/// <param name="Left">Users who stopped being listed.</param>
public sealed record PresenceTransition(string Channel, DateTimeOffset At, bool Occupied, bool Vacated, IReadOnlyList<PresenceMember> Joined, IReadOnlyList<string> Left)
{
    /// <summary>The transition between two states of a channel; null when there is nothing to tell.</summary>
    public static PresenceTransition? Of(string channel, DateTimeOffset at, PresenceCounts before, PresenceCounts after, IReadOnlyList<PresenceMember> joined, IReadOnlyList<string> left)
    {
        var occupied = !before.Occupied && after.Occupied;
        var vacated = before.Occupied && !after.Occupied;
        return occupied || vacated || joined.Count > 0 || left.Count > 0
            ? new PresenceTransition(channel, at, occupied, vacated, joined, left)
            : null;
    }
}

/// <summary>
/// Told of the presence transitions this node's store calls made (<see cref="PresenceService.Observer"/>):
/// a channel's in the order its store calls ran on this node. Must not throw.
/// </summary>
public interface IPresenceObserver
{
    /// <summary>Whether anything is wanted at all; false lets the service skip the call (no subscription to presence events).</summary>
    bool IsActive { get; }

    /// <summary>Handles the transitions; the service waits for it before its next store call of those channels.</summary>
    ValueTask OnTransitionsAsync(IReadOnlyList<PresenceTransition> transitions);
}

/// <summary>Event kinds presence travels as between nodes (and the SSE event names clients see).</summary>
public static class PresenceEvents
{
    /// <summary>A numbered diff: <c>{"type":"presence","channel","epoch","from","to","join","leave","update","users","connections"}</c>.</summary>
    public const string Diff = "presence";

    /// <summary>Counts only (a connection came or went without changing the list): conflated by each node.</summary>
    public const string Count = "presence_count";
}
