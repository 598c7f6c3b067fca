using Herald.Engine;

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
public sealed class ChannelPolicy
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
    /// Personal namespaces only: every WebSocket, SSE and streaming connection of a user is subscribed
    /// to the user's own channel (<c>me:&lt;sub&gt;</c>) when it opens. Off by default: clients that
    /// do not expect the channel would receive it.
    /// </summary>
    public bool AutoSubscribe { get; set; }

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
        if (MaxDirectMembers is < 2 or > 100)
            yield return $"Namespace '{name}': MaxDirectMembers must be from 2 to 100.";
    }
}
