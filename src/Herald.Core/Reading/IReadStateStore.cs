namespace Herald.Reading;

/// <summary>
/// Where a user's read markers, receipts and mentions are kept, per (user, channel). An engine supplies one
/// (memory, SQLite, Redis); every implementation passes <c>tests/Herald.Specification/ReadStateStoreSpec.cs</c>.
/// The store holds positions only: unread counts are computed from them and the channel's top
/// (<see cref="UnreadService"/>), so a new message costs the store nothing.
/// </summary>
public interface IReadStateStore
{
    /// <summary>
    /// Stores one of the (<paramref name="user"/>, <paramref name="channel"/>) entry's three markers,
    /// by <paramref name="write"/>: the <b>read</b> marker that unread counts are taken from, the
    /// <b>seen</b> marker other members are shown as a read receipt (a private read moves only the
    /// read marker), or the <b>delivered</b> marker. A marker is stored when it moves forward: there
    /// is none yet, the stored one is of another epoch, or the offset is higher — or whatever it is
    /// for <see cref="MarkerWrite.ReadBackward"/> (an explicit "mark unread"). Storing the read marker
    /// drops the mentions at or below it and those of another epoch. Atomic per (user, channel) and
    /// marker: of concurrent calls, each one that answers <c>Changed</c> stored a marker forward of
    /// every marker of its kind stored before it. <see cref="ReadMarker.UpdatedAt"/> may be kept to
    /// the millisecond. Any write creates the entry when there is none.
    /// </summary>
    /// <returns>
    /// The marker of that kind stored after the call, and whether this call changed it; for
    /// <see cref="MarkerWrite.ReadAndSeen"/>, the read marker, and whether the seen marker moved too.
    /// </returns>
    ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken = default);

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

    /// <summary>
    /// The receipts of <paramref name="channel"/>: every user with an entry for it (a marker, a
    /// mention or a join made it one of theirs), with the seen and delivered markers, in ordinal
    /// order of the user ids, at most <paramref name="limit"/> of them.
    /// </summary>
    ValueTask<IReadOnlyList<MemberReceipt>> GetReceiptsAsync(string channel, int limit, CancellationToken cancellationToken = default);
}

/// <summary>How far a user has read a channel: a position in its log and the countable ordinal there.</summary>
/// <param name="Epoch">The channel's epoch the offset belongs to.</param>
/// <param name="Offset">The newest offset read (0: nothing).</param>
/// <param name="N">The channel's countable ordinal at that offset: unread = n at the top − this.</param>
/// <param name="UpdatedAt">When it was set.</param>
public sealed record ReadMarker(string Epoch, long Offset, long N, DateTimeOffset UpdatedAt);

/// <param name="Marker">The marker stored after the call.</param>
/// <param name="Changed">Whether the call changed it (false: it was not forward of the stored one).</param>
/// <param name="SeenChanged">
/// For <see cref="MarkerWrite.ReadAndSeen"/>: whether the seen marker moved (to <paramref name="Marker"/>); false for every other write.
/// </param>
public readonly record struct MarkerUpdate(ReadMarker Marker, bool Changed, bool SeenChanged = false);

/// <summary>One of a user's channels: the marker (null when the user never read it) and the positions of the publications that mention the user, oldest first.</summary>
public sealed record ReadEntry(string Channel, ReadMarker? Marker, IReadOnlyList<Engine.Position> Mentions);

/// <summary>Which of an entry's markers <see cref="IReadStateStore.SetMarkerAsync"/> stores, and how.</summary>
public enum MarkerWrite
{
    /// <summary>The read marker, forward only.</summary>
    Read,

    /// <summary>The read marker, in either direction: an explicit "mark unread".</summary>
    ReadBackward,

    /// <summary>The seen marker (the read receipt other members are shown), forward only.</summary>
    Seen,

    /// <summary>The delivered marker (the user's device received the publications up to it), forward only.</summary>
    Delivered,

    /// <summary>
    /// The read marker, forward only, and then the seen marker, forward only, to the read marker
    /// stored after (moved or not) — in one write: a read others are shown, or an author's own
    /// message. The same as <see cref="Read"/> then <see cref="Seen"/> with the read marker answered;
    /// <see cref="MarkerUpdate.SeenChanged"/> says whether the seen marker moved.
    /// </summary>
    ReadAndSeen,
}

/// <summary>One member's receipts on a channel: how far others are shown the user has read, and what the user's devices received.</summary>
/// <param name="Seen">The seen marker; null when none (never read, or only privately).</param>
/// <param name="Delivered">The delivered marker; null when none.</param>
public sealed record MemberReceipt(string User, ReadMarker? Seen, ReadMarker? Delivered);

/// <summary>Told of every receipt marker that moved (<see cref="UnreadService"/> stores them; the receipts facet shows them to the channel's subscribers).</summary>
public interface IReceiptListener
{
    /// <summary><paramref name="user"/>'s <paramref name="seen"/> or <paramref name="delivered"/> marker (null: unchanged) on <paramref name="channel"/> moved.</summary>
    ValueTask OnReceiptAsync(string channel, string user, ReadMarker? seen, ReadMarker? delivered, CancellationToken cancellationToken = default);
}

/// <summary>
/// Implemented by a read-state store kept in the channel log's own database (SQLite): a user's
/// entries and their channels' log states in one read — one statement, one snapshot — instead of
/// <see cref="IReadStateStore.GetAsync"/> and then the states. <see cref="UnreadService"/> uses it
/// when the store has it. The answers are those of the two reads.
/// </summary>
public interface IReadStateWithStates
{
    /// <summary>
    /// As <see cref="IReadStateStore.GetAsync"/>, each entry with its channel's state
    /// (<see cref="StreamState.Empty"/> for a channel never written) — except that, for
    /// <paramref name="channels"/>, every channel is answered, in order (an entry without a marker
    /// or mentions when the user has none).
    /// </summary>
    ValueTask<IReadOnlyList<(ReadEntry Entry, Engine.StreamState State)>> GetWithStatesAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default);
}
