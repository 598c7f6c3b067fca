using System.Security.Cryptography;
using Herald.Engine;

namespace Herald.Presence;

/// <summary>
/// The presence store of a single node (the SQLite and memory engines): every channel's presence
/// in this process, diffs published through the node's own broker. Presence is ephemeral by
/// design: a restart starts new epochs, and resuming clients get a snapshot.
/// </summary>
/// <remarks>
/// One lock for the store: a change is a few dictionary operations, and publishing to the
/// in-process broker only queues to the node's dispatcher, so the diffs of a channel are published
/// in the order they are numbered.
/// </remarks>
public sealed class MemoryPresenceStore(IBroker broker, TimeProvider? time = null) : IPresenceStore
{
    /// <summary>How long an empty channel's epoch and diffs are kept for clients resuming into it.</summary>
    internal static readonly TimeSpan EmptyRetention = TimeSpan.FromMinutes(5);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChannelState> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _online = new(StringComparer.Ordinal);

    // Channels with a member in its leave grace or a leased connection: what maintenance looks at.
    private readonly HashSet<string> _timed = new(StringComparer.Ordinal);

    public async ValueTask<PresenceApplied> ApplyAsync(string channel, IReadOnlyList<PresenceChange> changes, PresenceLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(changes);
        var now = _time.GetUtcNow();
        PresenceApplied applied;
        var publishing = ValueTask.CompletedTask;
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state))
            {
                if (!changes.Any(c => c.Kind == PresenceChangeKind.Join))
                    return new PresenceApplied(0, default, false);
                _channels[channel] = state = new ChannelState(NewEpoch());
            }

            var before = state.Capture(changes);
            var countsBefore = state.Counts;
            foreach (var change in changes)
                Apply(channel, state, change, now);
            (applied, var published) = Finish(channel, state, before, countsBefore, limits, now);

            // Under the lock: the channel's events leave in the order they were numbered (the
            // broker only queues them).
            if (published is not null)
                publishing = broker.PublishEventAsync(published, cancellationToken);
            if (state is { Members.Count: 0, Connections.Count: 0 })
            {
                // Kept a while, empty, so a client that was the last one here resumes its diffs.
                state.EmptySince ??= now;
                _timed.Add(channel);
            }
            else
            {
                state.EmptySince = null;
            }
        }

        await publishing.ConfigureAwait(false);
        return applied;
    }

    public ValueTask<PresencePage> ReadAsync(string channel, string? afterUser, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state))
                return ValueTask.FromResult(new PresencePage(string.Empty, 0, default, [], null));

            var members = new List<PresenceMember>(Math.Min(limit, state.Members.Count));
            string? next = null;
            foreach (var (user, member) in state.Members)
            {
                if (afterUser is not null && string.CompareOrdinal(user, afterUser) <= 0)
                    continue;
                if (members.Count == limit)
                {
                    next = members[^1].User;
                    break;
                }

                members.Add(member.ToMember(user));
            }

            return ValueTask.FromResult(new PresencePage(state.Epoch, state.Seq, state.Counts, members, next));
        }
    }

    public ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>?> ReadDiffsAsync(string channel, string epoch, long afterSeq, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        lock (_lock)
        {
            IReadOnlyList<ReadOnlyMemory<byte>>? diffs = null;
            if (_channels.TryGetValue(channel, out var state) && string.Equals(state.Epoch, epoch, StringComparison.Ordinal) && afterSeq <= state.Seq)
            {
                var missing = state.Seq - afterSeq;
                if (missing <= state.Diffs.Count)
                    diffs = [.. state.Diffs.Skip(state.Diffs.Count - (int)missing).Select(d => (ReadOnlyMemory<byte>)d)];
            }

            return ValueTask.FromResult(diffs);
        }
    }

    public ValueTask<IReadOnlyDictionary<string, int>> OnlineAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var online = new Dictionary<string, int>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var user in users)
                online[user] = _online.GetValueOrDefault(user);
        }

        return ValueTask.FromResult<IReadOnlyDictionary<string, int>>(online);
    }

    public async ValueTask<PresenceMaintenance> MaintainAsync(string node, PresenceLimits limits, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var leaves = 0;
        List<Task>? events = null;
        List<PresenceTransition>? transitions = null;
        lock (_lock)
        {
            List<string>? untimed = null;
            foreach (var channel in _timed.ToArray())
            {
                var state = _channels[channel];
                var due = new List<PresenceChange>();
                foreach (var (connection, open) in state.Connections)
                {
                    if (open.ExpiresAt is { } expires && expires <= now)
                        due.Add(new PresenceChange(PresenceChangeKind.Leave, connection, open.User));
                }

                var before = state.Capture(due);
                var countsBefore = state.Counts;
                foreach (var change in due)
                    Apply(channel, state, change, now);
                foreach (var (user, member) in state.Members)
                {
                    if (member.LeaveAt is { } at && at <= now && member.Connections == 0)
                        before.TryAdd(user, member.Snapshot());
                }

                foreach (var user in before.Keys)
                {
                    if (state.Members.TryGetValue(user, out var member) && member.LeaveAt is { } at && at <= now && member.Connections == 0)
                        state.Members.Remove(user);
                }

                var (applied, published) = Finish(channel, state, before, countsBefore, limits, now);
                leaves += before.Count(b => b.Value.Exists && !state.Members.ContainsKey(b.Key));
                if (applied.Transition is { } transition)
                    (transitions ??= []).Add(transition);
                if (published is not null)
                    (events ??= []).Add(broker.PublishEventAsync(published, cancellationToken).AsTask());
                if (state is { Members.Count: 0, Connections.Count: 0 })
                    state.EmptySince ??= now;
                if (state.EmptySince is { } empty ? empty + EmptyRetention <= now : !state.HasTimed)
                    (untimed ??= []).Add(channel);
            }

            foreach (var channel in untimed ?? [])
            {
                _timed.Remove(channel);
                if (_channels[channel].EmptySince is not null)
                    _channels.Remove(channel);
            }
        }

        if (events is not null)
            await Task.WhenAll(events).ConfigureAwait(false);
        return leaves == 0 && transitions is null ? PresenceMaintenance.None : new PresenceMaintenance(leaves, transitions ?? []);
    }

    private void Apply(string channel, ChannelState state, PresenceChange change, DateTimeOffset now)
    {
        switch (change.Kind)
        {
            case PresenceChangeKind.Join:
                if (state.Connections.TryGetValue(change.Connection, out var open))
                {
                    // A poller renewing its lease (or a join repeated): the expiry moves, nothing else.
                    open.ExpiresAt = change.ExpiresAt;
                    if (open.ExpiresAt is not null)
                        _timed.Add(channel);
                    break;
                }

                state.Connections[change.Connection] = new OpenConnection(change.User, change.ExpiresAt);
                if (change.ExpiresAt is not null)
                    _timed.Add(channel);
                if (change.User is not { } user)
                    break;
                _online[user] = _online.GetValueOrDefault(user) + 1;
                if (!state.Members.TryGetValue(user, out var member))
                    state.Members[user] = member = new MemberState(now);
                member.Connections++;
                member.LeaveAt = null;
                if (!change.Info.IsEmpty && !change.Info.Span.SequenceEqual(member.Info))
                    member.Info = change.Info.ToArray();
                break;

            case PresenceChangeKind.Leave:
                if (!state.Connections.Remove(change.Connection, out var gone) || gone.User is not { } leaving)
                    break;
                if (_online.TryGetValue(leaving, out var count))
                {
                    if (count <= 1)
                        _online.Remove(leaving);
                    else
                        _online[leaving] = count - 1;
                }

                if (!state.Members.TryGetValue(leaving, out var left) || --left.Connections > 0)
                    break;
                if (change.LeaveAt is { } at && at > now)
                {
                    left.LeaveAt = at;
                    _timed.Add(channel);
                }
                else
                {
                    state.Members.Remove(leaving);
                }

                break;

            case PresenceChangeKind.Status:
                if (change.User is { } who && state.Members.TryGetValue(who, out var status))
                    status.Status = change.Status;
                break;
        }
    }

    /// <summary>Numbers and encodes the diff between <paramref name="before"/> and now; the event to publish, if any.</summary>
    private static (PresenceApplied Applied, ChannelEvent? Event) Finish(
        string channel, ChannelState state, Dictionary<string, MemberSnapshot> before, PresenceCounts countsBefore, PresenceLimits limits, DateTimeOffset now)
    {
        List<PresenceMember> join = [], update = [];
        List<string> leave = [];
        foreach (var (user, old) in before)
        {
            var exists = state.Members.TryGetValue(user, out var current);
            if (!old.Exists && exists)
                join.Add(current!.ToMember(user));
            else if (old.Exists && !exists)
                leave.Add(user);
            else if (exists && (!old.Info.AsSpan().SequenceEqual(current!.Info) || !string.Equals(old.Status, current.Status, StringComparison.Ordinal)))
                update.Add(current.ToMember(user));
        }

        var counts = state.Counts;
        var transition = PresenceTransition.Of(channel, now, countsBefore, counts, join, leave);
        if (join.Count + leave.Count + update.Count == 0)
        {
            var changed = counts != countsBefore;
            return (new PresenceApplied(state.Seq, counts, false, transition), changed ? new ChannelEvent(channel, PresenceEvents.Count, PresenceJson.Count(channel, counts)) : null);
        }

        var diff = PresenceJson.Diff(channel, state.Epoch, state.Seq, state.Seq + 1, join, leave, update, counts);
        state.Seq++;
        state.Diffs.Enqueue(diff);
        while (state.Diffs.Count > Math.Max(1, limits.ResumeDiffs))
            state.Diffs.Dequeue();
        return (new PresenceApplied(state.Seq, counts, true, transition), new ChannelEvent(channel, PresenceEvents.Diff, diff));
    }

    private static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private sealed class ChannelState(string epoch)
    {
        public string Epoch { get; } = epoch;

        public long Seq { get; set; }

        public SortedDictionary<string, MemberState> Members { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, OpenConnection> Connections { get; } = new(StringComparer.Ordinal);

        public Queue<byte[]> Diffs { get; } = new();

        /// <summary>Set while nobody is present: the state is dropped <see cref="EmptyRetention"/> later.</summary>
        public DateTimeOffset? EmptySince { get; set; }

        public PresenceCounts Counts => new(Members.Count, Connections.Count);

        public bool HasTimed => Members.Values.Any(m => m.LeaveAt is not null) || Connections.Values.Any(c => c.ExpiresAt is not null);

        public Dictionary<string, MemberSnapshot> Capture(IEnumerable<PresenceChange> changes)
        {
            var before = new Dictionary<string, MemberSnapshot>(StringComparer.Ordinal);
            foreach (var change in changes)
            {
                if (change.User is { } user && !before.ContainsKey(user))
                    before[user] = Members.TryGetValue(user, out var member) ? member.Snapshot() : default;
            }

            return before;
        }
    }

    private sealed class MemberState(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public byte[] Info { get; set; } = [];

        public string? Status { get; set; }

        public int Connections { get; set; }

        /// <summary>Set while the user has no connection and is within the leave grace.</summary>
        public DateTimeOffset? LeaveAt { get; set; }

        public MemberSnapshot Snapshot() => new(true, Info, Status);

        public PresenceMember ToMember(string user) => new(user, Info, Status, Connections, Since);
    }

    private readonly record struct MemberSnapshot(bool Exists, byte[]? Info, string? Status);

    /// <param name="expiresAt">For a leased connection (a poller): when it leaves unless renewed.</param>
    private sealed class OpenConnection(string? user, DateTimeOffset? expiresAt)
    {
        public string? User { get; } = user;

        public DateTimeOffset? ExpiresAt { get; set; } = expiresAt;
    }
}
