using Herald.Engine;
using Herald.Presence;

namespace Herald.Channels;

/// <summary>Who may do something on a namespace's channels.</summary>
public enum Access
{
    /// <summary>Only server-side callers holding an API key.</summary>
    ServerOnly,

    /// <summary>API keys and authenticated users.</summary>
    Authenticated,

    /// <summary>Anyone, including anonymous connections.</summary>
    Anyone,
}

/// <summary>The rules of one namespace; bound from <c>Herald:Namespaces:{name}</c>.</summary>
public sealed partial class ChannelPolicy
{
    /// <summary>Publications kept per channel.</summary>
    public int HistorySize { get; set; } = 1000;

    /// <summary>How long a publication stays in history.</summary>
    public TimeSpan HistoryTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Largest publish request body accepted, in bytes. 64 KiB: Centrifugo's default inbound cap.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    public Access Publish { get; set; } = Access.ServerOnly;

    public Access Subscribe { get; set; } = Access.Anyone;

    /// <summary>
    /// What the namespace's channels are (<see cref="ChannelKind"/>). Unset: <c>Personal</c> for the
    /// namespace <c>me</c>, <c>Direct</c> for <c>dm</c>, <c>Public</c> for every other. Personal and
    /// direct channels ignore <see cref="Publish"/> and <see cref="Subscribe"/>: their kind decides.
    /// </summary>
    public ChannelKind? Kind { get; set; }

    /// <summary>Whether clients may send signals (ephemeral client events, never stored) on the namespace's channels. Off by default: an open namespace would otherwise be an open relay.</summary>
    public bool Signals { get; set; }

    /// <summary>Largest signal <c>data</c>, compact JSON bytes. 4 KiB: a reaction, a cursor position, a call offer's summary.</summary>
    public int MaxSignalBytes { get; set; } = 4 * 1024;

    /// <summary>Signals a sender may send per second on one channel (a token bucket of this size, refilled at this rate); past it, <c>rate_limited</c>.</summary>
    public int SignalsPerSecond { get; set; } = 10;

    /// <summary>Most members of a direct channel. 10: a group conversation; larger groups are rooms with a member list.</summary>
    public int MaxDirectMembers { get; set; } = 10;

    /// <summary>
    /// The most presence a subscription may ask for (<c>Off</c>, <c>Enter</c>, <c>Count</c>,
    /// <c>List</c>); a request above it gets this. Off by default: who is online is personal data a
    /// namespace shares on purpose.
    /// </summary>
    public PresenceMode Presence { get; set; } = PresenceMode.Off;

    /// <summary>Most users a list subscriber is sent (snapshot and diffs); a larger room is announced as <c>count</c>. 1,000: a member list a person can read.</summary>
    public int PresenceListLimit { get; set; } = 1000;

    /// <summary>How long a user whose last connection dropped stays listed: a reconnect within it makes no leave/join pair. An unsubscribe or a normal WebSocket close leaves at once.</summary>
    public TimeSpan PresenceLeaveGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A node sends a channel's first change at once, then at most one diff per this interval.</summary>
    public TimeSpan PresenceDiffInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>From this many connections on a channel, its diffs go at most once a second.</summary>
    public int PresenceLargeRoom { get; set; } = 1000;

    /// <summary>Diffs kept per channel for resuming clients; a client that missed more gets a snapshot.</summary>
    public int PresenceResumeDiffs { get; set; } = 500;

    /// <summary>Longest presence <c>status</c> a client may set, in UTF-8 bytes.</summary>
    public int MaxPresenceStatusBytes { get; set; } = 256;

    /// <summary>Whether users may say they are typing on the namespace's channels (the <c>typing</c> ops). Off by default, like signals.</summary>
    public bool Typing { get; set; }

    /// <summary>A typing client resends <c>typing</c> this often while the user types (announced to clients).</summary>
    public TimeSpan TypingResend { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A client sends <c>typing_stop</c> after this long without a keystroke (announced to clients).</summary>
    public TimeSpan TypingIdle { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The server drops a typer it has not heard from for this long: a client that vanished stops typing by itself.</summary>
    public TimeSpan TypingExpire { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Above this many subscribers on a node, the typing set goes at most once a second.</summary>
    public int TypingAggregateAbove { get; set; } = 200;

    /// <summary>Users named in the typing set; the rest are only in its <c>total</c>.</summary>
    public int TypingListLimit { get; set; } = 10;

    /// <summary>
    /// Personal namespaces only: every WebSocket, SSE and streaming connection of a user is subscribed
    /// to the user's own channel (<c>me:&lt;sub&gt;</c>) when it opens. Off by default: clients that
    /// do not expect the channel would receive it.
    /// </summary>
    public bool AutoSubscribe { get; set; }

    /// <summary>
    /// Which publications count as messages: they carry the countable ordinal <c>n</c> that unread
    /// counts are taken from. Unset (the default): every publication. Otherwise entries are
    /// <c>msgType</c> names, <c>*</c> for every type and <c>-</c> for publications without a type.
    /// Herald's own types (<see cref="ActionTypes"/>: edits, deletes, reactions, thread summaries)
    /// never count, whatever the list says.
    /// </summary>
    public IList<string>? UnreadTypes { get; set; }

    /// <summary>Whether a publication of <paramref name="type"/> counts towards unread (<see cref="UnreadTypes"/>).</summary>
    public bool IsCountable(string? type)
    {
        if (ActionTypes.IsReserved(type))
            return false;
        if (UnreadTypes is null)
            return true;
        foreach (var entry in UnreadTypes)
        {
            if (entry == "*" || (type is null ? entry == "-" : string.Equals(entry, type, StringComparison.Ordinal)))
                return true;
        }

        return false;
    }

    internal Retention ToRetention(TimeSpan idempotencyWindow) => new(HistorySize, HistoryTtl, idempotencyWindow);

    internal IEnumerable<string> Validate(string name)
    {
        if (HistorySize < 1)
            yield return $"Namespace '{name}': HistorySize must be at least 1.";
        if (HistoryTtl <= TimeSpan.Zero)
            yield return $"Namespace '{name}': HistoryTtl must be positive.";
        if (MaxMessageBytes < 16)
            yield return $"Namespace '{name}': MaxMessageBytes must be at least 16.";
        if (MaxSignalBytes is < 16 or > 1024 * 1024)
            yield return $"Namespace '{name}': MaxSignalBytes must be from 16 to 1048576.";
        if (SignalsPerSecond is < 1 or > 10_000)
            yield return $"Namespace '{name}': SignalsPerSecond must be from 1 to 10000.";
        if (!Enum.IsDefined(Presence))
            yield return $"Namespace '{name}': Presence must be Off, Enter, Count or List.";
        if (PresenceListLimit is < 1 or > 100_000)
            yield return $"Namespace '{name}': PresenceListLimit must be from 1 to 100000.";
        if (PresenceLeaveGrace < TimeSpan.Zero || PresenceLeaveGrace > TimeSpan.FromMinutes(10))
            yield return $"Namespace '{name}': PresenceLeaveGrace must be from 0 to 10 minutes.";
        if (PresenceDiffInterval < TimeSpan.Zero || PresenceDiffInterval > TimeSpan.FromSeconds(10))
            yield return $"Namespace '{name}': PresenceDiffInterval must be from 0 to 10 seconds.";
        if (PresenceLargeRoom < 1)
            yield return $"Namespace '{name}': PresenceLargeRoom must be at least 1.";
        if (PresenceResumeDiffs is < 1 or > 100_000)
            yield return $"Namespace '{name}': PresenceResumeDiffs must be from 1 to 100000.";
        if (MaxPresenceStatusBytes is < 1 or > 4096)
            yield return $"Namespace '{name}': MaxPresenceStatusBytes must be from 1 to 4096.";
        if (TypingResend <= TimeSpan.Zero || TypingIdle <= TimeSpan.Zero || TypingExpire <= TypingResend)
            yield return $"Namespace '{name}': TypingResend and TypingIdle must be positive, and TypingExpire longer than TypingResend.";
        if (TypingAggregateAbove < 1 || TypingListLimit is < 0 or > 100)
            yield return $"Namespace '{name}': TypingAggregateAbove must be at least 1 and TypingListLimit from 0 to 100.";
        if (UnreadTypes is not null && UnreadTypes.Any(string.IsNullOrEmpty))
            yield return $"Namespace '{name}': UnreadTypes entries must be type names, '*' (every type) or '-' (no type).";
        if (MaxDirectMembers is < 2 or > 100)
            yield return $"Namespace '{name}': MaxDirectMembers must be from 2 to 100.";
        foreach (var error in ValidateActions(name))
            yield return error;
        foreach (var error in ValidateReceipts(name))
            yield return error;
    }
}
