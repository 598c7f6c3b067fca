namespace Herald.Reading;

/// <summary>The rules every <see cref="IReadStateStore"/> applies, in one place.</summary>
public static class ReadMarkers
{
    /// <summary>Whether <paramref name="next"/> replaces <paramref name="stored"/>: there is none, it is of another epoch (the stored one is stale: markers are checked against the channel's epoch before they are stored), or it is further — or anything when <paramref name="allowBackward"/>.</summary>
    public static bool Advances(ReadMarker? stored, ReadMarker next, bool allowBackward)
    {
        ArgumentNullException.ThrowIfNull(next);
        return stored is null || allowBackward || stored.Epoch != next.Epoch || next.Offset > stored.Offset;
    }
}
