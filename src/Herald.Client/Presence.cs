namespace Herald.Client;

/// <summary>How a subscription takes part in presence (docs/protocol.md#presence).</summary>
public enum PresenceMode
{
    /// <summary>Not present, nothing received.</summary>
    Off,

    /// <summary>Present (listed with a user token), nothing received.</summary>
    Enter,

    /// <summary>Present, and the counts.</summary>
    Count,

    /// <summary>Present, and the members: <see cref="SubscriptionBase.Presence"/> keeps them.</summary>
    List,
}

/// <summary>One user present on a channel.</summary>
/// <param name="User">The user (the token's <c>sub</c>).</param>
/// <param name="Info">The token's <c>info</c> claim, if any.</param>
/// <param name="Status">Set with the WebSocket <c>status</c> op, if any.</param>
/// <param name="Conns">The user's connections on the channel when the entry was written.</param>
/// <param name="Since">When the user joined.</param>
public sealed record PresenceMember(string User, JsonData? Info, string? Status, int Conns, DateTimeOffset Since);

/// <summary>Where a presence list stands; the client resumes it from here on every reconnect.</summary>
/// <param name="Epoch">The presence epoch of the channel.</param>
/// <param name="Seq">The last diff applied.</param>
public sealed record PresencePosition(string Epoch, long Seq);

/// <summary>The presence of a channel changed: the whole list and counts after it, and what changed.</summary>
/// <param name="Members">Everyone listed now (empty unless the mode is <see cref="PresenceMode.List"/>).</param>
/// <param name="Users">Users present (anonymous connections count in <paramref name="Connections"/> only).</param>
/// <param name="Connections">Connections present.</param>
/// <param name="Joined">Who joined.</param>
/// <param name="Left">Who left (as they were listed).</param>
/// <param name="Updated">Whose entry changed (status, info, connections).</param>
public sealed record PresenceEvent(
    IReadOnlyList<PresenceMember> Members,
    int Users,
    int Connections,
    IReadOnlyList<PresenceMember> Joined,
    IReadOnlyList<PresenceMember> Left,
    IReadOnlyList<PresenceMember> Updated);

/// <summary>Who is typing on a channel: the first few (the server's <c>TypingListLimit</c>), and how many in all.</summary>
/// <param name="Users">The first typers, earliest first.</param>
/// <param name="Total">How many type.</param>
public sealed record TypingEvent(IReadOnlyList<string> Users, int Total);

/// <summary>The server's typing timings: say typing again every <paramref name="Resend"/> while typing, stopped after <paramref name="Idle"/> without a keystroke.</summary>
/// <param name="Resend">Resend interval.</param>
/// <param name="Idle">Silence after which the user stopped.</param>
/// <param name="Expire">The server forgets a typer it has not heard from for this long.</param>
public sealed record TypingTimings(TimeSpan Resend, TimeSpan Idle, TimeSpan Expire);

/// <summary>A signal: sent to the channel's current subscribers, never stored.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Name">The application's name for it.</param>
/// <param name="From">The sending user; null for API keys and anonymous senders.</param>
/// <param name="Data">Its data, if any.</param>
public sealed record SignalEvent(string Channel, string Name, string? From, JsonData? Data);
