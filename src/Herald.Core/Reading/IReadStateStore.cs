namespace Herald.Reading;

/// <summary>
/// Where a user's read markers and mentions are kept, per (user, channel). An engine supplies one
/// (memory, SQLite, Redis); every implementation passes <c>tests/Herald.Specification/ReadStateStoreSpec.cs</c>.
/// The store holds positions only: unread counts are computed from them and the channel's top
/// (<see cref="UnreadService"/>), so a new message costs the store nothing.
/// </summary>
public interface IReadStateStore
{
    /// <summary>
    /// Stores <paramref name="marker"/> for (<paramref name="user"/>, <paramref name="channel"/>) when it
    /// moves the marker forward: no marker yet, another epoch than the stored one, or a higher offset —
    /// or whatever it is when <paramref name="allowBackward"/> (an explicit "mark unread"). Mentions at
    /// or below the stored marker's offset, and those of another epoch, are dropped. Atomic per (user,
    /// channel): of concurrent calls, each one that answers <c>Changed</c> stored a marker forward of
    /// every marker stored before it. <see cref="ReadMarker.UpdatedAt"/> may be kept to the millisecond.
    /// </summary>
    /// <returns>The marker stored after the call, and whether this call changed it.</returns>
    ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, bool allowBackward, CancellationToken cancellationToken = default);

    /// <summary>
    /// The user's entries for <paramref name="channels"/> (a channel without an entry is left out, one
    /// named twice is answered once, in no particular order), or, when null, for every channel the
    /// user has one in, at most <paramref name="limit"/> of them, the most recently changed first. A
    /// call changes an entry when it creates it, stores a marker or keeps a new mention; one that
    /// leaves it as it was (a marker not forward, a mention ignored, a join of an existing entry)
    /// does not move it.
    /// </summary>
    ValueTask<IReadOnlyList<ReadEntry>> GetAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that a publication at <paramref name="position"/> mentions each of <paramref name="users"/>:
    /// one write per user, keeping the newest <paramref name="keep"/> mentions per (user, channel), and
    /// making the channel one of the user's (an entry without a marker) when it was not. A mention
    /// already kept, or at or below the user's marker (same epoch), is ignored; one of another epoch
    /// than the kept mentions replaces them (<see cref="ReadMarkers.WithMention"/>).
    /// </summary>
    ValueTask MentionAsync(string channel, IReadOnlyList<string> users, Engine.Position position, int keep, CancellationToken cancellationToken = default);

    /// <summary>Makes <paramref name="channel"/> one of each user's channels, without a marker, where it is not yet (a direct channel's members, at its first message).</summary>
    ValueTask JoinAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellationToken = default);

    /// <summary>Forgets the user's entry for the channel (it leaves the user's unread list).</summary>
    ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default);
}

/// <summary>How far a user has read a channel: a position in its log and the countable ordinal there.</summary>
/// <param name="Epoch">The channel's epoch the offset belongs to.</param>
/// <param name="Offset">The newest offset read (0: nothing).</param>
/// <param name="N">The channel's countable ordinal at that offset: unread = n at the top − this.</param>
/// <param name="UpdatedAt">When it was set.</param>
public sealed record ReadMarker(string Epoch, long Offset, long N, DateTimeOffset UpdatedAt);

/// <param name="Marker">The marker stored after the call.</param>
/// <param name="Changed">Whether the call changed it (false: it was not forward of the stored one).</param>
public readonly record struct MarkerUpdate(ReadMarker Marker, bool Changed);

/// <summary>One of a user's channels: the marker (null when the user never read it) and the positions of the publications that mention the user, oldest first.</summary>
public sealed record ReadEntry(string Channel, ReadMarker? Marker, IReadOnlyList<Engine.Position> Mentions);
