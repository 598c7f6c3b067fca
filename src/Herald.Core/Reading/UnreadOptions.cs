namespace Herald.Reading;

/// <summary>Read markers, unread counts and mentions; bound from <c>Herald:Unread</c>.</summary>
public sealed class UnreadOptions
{
    /// <summary>Most channels one unread request may list, and most channels answered for "all of mine". 500: a sidebar's worth.</summary>
    public int MaxChannels { get; set; } = 500;

    /// <summary>Mentions kept per (user, channel), the newest; older ones still count in unread but are no longer listed. 100.</summary>
    public int MentionsKept { get; set; } = 100;

    /// <summary>Most users one publication may mention. 50: a mention of more is a broadcast, which a channel already is.</summary>
    public int MaxMentionsPerMessage { get; set; } = 50;

    /// <summary>
    /// A user's accepted markers are published to the user's personal channel (<see cref="SyncNamespace"/>)
    /// at most once per this interval per channel (the first at once, then the newest at the end of
    /// the interval), so other devices learn what was read. Zero turns the sync off.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The personal namespace marker syncs are published in (<c>me</c>: <c>me:&lt;user&gt;</c>); it must be of kind Personal.</summary>
    public string SyncNamespace { get; set; } = HeraldOptions.PersonalNamespace;

    internal IEnumerable<string> Validate(HeraldOptions options)
    {
        if (MaxChannels is < 1 or > 10_000)
            yield return "Herald:Unread:MaxChannels must be from 1 to 10000.";
        if (MentionsKept is < 1 or > 10_000)
            yield return "Herald:Unread:MentionsKept must be from 1 to 10000.";
        if (MaxMentionsPerMessage is < 0 or > 1000)
            yield return "Herald:Unread:MaxMentionsPerMessage must be from 0 to 1000.";
        if (SyncInterval < TimeSpan.Zero || SyncInterval > TimeSpan.FromMinutes(1))
            yield return "Herald:Unread:SyncInterval must be from 0 to 1 minute.";
        if (SyncInterval > TimeSpan.Zero && options.KindOf(SyncNamespace) != Channels.ChannelKind.Personal)
            yield return $"Herald:Unread:SyncNamespace '{SyncNamespace}' is not a personal namespace (Kind: Personal); set SyncInterval to 0 to turn the sync off.";
    }
}
