namespace Herald.Channels;

/// <summary>The personal channels a user's push connections are subscribed to when they open (<see cref="ChannelPolicy.AutoSubscribe"/>).</summary>
public static class PersonalChannels
{
    /// <summary>
    /// <c>&lt;ns&gt;:&lt;user&gt;</c> for every personal namespace with <see cref="ChannelPolicy.AutoSubscribe"/>
    /// (usually one: <c>me:alice</c>), in name order; empty for anonymous callers, for server keys
    /// (<paramref name="user"/> null), and for a user id that cannot be a channel name (a space, a
    /// character outside the name alphabet, too long) — that user has no personal channel to follow.
    /// </summary>
    public static IReadOnlyList<string> AutoSubscribed(HeraldOptions options, string? user)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(user))
            return [];

        List<string>? channels = null;
        foreach (var (ns, policy) in options.Namespaces)
        {
            if (!policy.AutoSubscribe || options.KindOf(ns) != ChannelKind.Personal)
                continue;
            var channel = ns + ":" + user;
            if (ChannelName.IsValid(channel))
                (channels ??= []).Add(channel);
        }

        if (channels is null)
            return [];
        channels.Sort(StringComparer.Ordinal);
        return channels;
    }
}
