using Herald.Engine;

namespace Herald.Reading;

/// <summary>The rules every <see cref="IReadStateStore"/> applies, in one place (the Redis store's scripts repeat them in Lua).</summary>
public static class ReadMarkers
{
    /// <summary>Whether <paramref name="next"/> replaces <paramref name="stored"/>: there is none, it is of another epoch (the stored one is stale: markers are checked against the channel's epoch before they are stored), or it is further — or anything when <paramref name="allowBackward"/>.</summary>
    public static bool Advances(ReadMarker? stored, ReadMarker next, bool allowBackward)
    {
        ArgumentNullException.ThrowIfNull(next);
        return stored is null || allowBackward || stored.Epoch != next.Epoch || next.Offset > stored.Offset;
    }

    /// <summary>
    /// What <see cref="MarkerWrite.ReadAndSeen"/> stores over an entry's <paramref name="storedRead"/>
    /// and <paramref name="storedSeen"/> markers: the read marker forward to <paramref name="next"/>,
    /// then the seen marker forward to the read marker that leaves (moved or not).
    /// </summary>
    /// <returns>The read marker after the write, and whether the read and the seen marker moved (the seen one to <c>Read</c>).</returns>
    public static (ReadMarker Read, bool ReadChanged, bool SeenChanged) ReadAndSeen(ReadMarker? storedRead, ReadMarker? storedSeen, ReadMarker next)
    {
        var readChanged = Advances(storedRead, next, allowBackward: false);
        var read = readChanged ? next : storedRead!;
        return (read, readChanged, Advances(storedSeen, read, allowBackward: false));
    }

    /// <summary>
    /// The mentions a new <paramref name="mention"/> leaves, or null when it changes nothing: it is at
    /// or below <paramref name="marker"/> (same epoch), already kept, or older than the newest
    /// <paramref name="keep"/>. Mentions are of one epoch: one of another epoch than the kept ones
    /// replaces them, since a new epoch means the channel's old log, and every position in it, is gone.
    /// </summary>
    /// <param name="mentions">The kept mentions, oldest first.</param>
    /// <returns>The new list, oldest first, at most <paramref name="keep"/> long.</returns>
    public static List<Position>? WithMention(ReadMarker? marker, IReadOnlyList<Position> mentions, Position mention, int keep)
    {
        ArgumentNullException.ThrowIfNull(mentions);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        if (marker is not null && marker.Epoch == mention.Epoch && mention.Offset <= marker.Offset)
            return null;

        var replaced = mentions.Count > 0 && mentions[0].Epoch != mention.Epoch;
        var kept = replaced ? [] : new List<Position>(mentions);
        var at = kept.FindIndex(m => m.Offset >= mention.Offset);
        if (at >= 0 && kept[at].Offset == mention.Offset)
            return null;

        var index = at < 0 ? kept.Count : at;
        kept.Insert(index, mention);
        var excess = kept.Count - keep;
        if (excess > 0)
        {
            // The new mention is the oldest and the list was full: nothing changes (unless it replaced another epoch's).
            if (!replaced && index == 0 && excess == 1)
                return null;
            kept.RemoveRange(0, excess);
        }

        return kept;
    }

    /// <summary>The mentions a newly stored <paramref name="marker"/> leaves: those of its epoch after its offset.</summary>
    public static List<Position> After(ReadMarker marker, IReadOnlyList<Position> mentions)
    {
        ArgumentNullException.ThrowIfNull(marker);
        ArgumentNullException.ThrowIfNull(mentions);
        var kept = new List<Position>(mentions.Count);
        foreach (var mention in mentions)
        {
            if (mention.Epoch == marker.Epoch && mention.Offset > marker.Offset)
                kept.Add(mention);
        }

        return kept;
    }
}
