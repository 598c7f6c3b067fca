using Herald.Channels;

namespace Herald.Stats;

/// <summary>The stats endpoints (<c>GET /v1/stats</c>, <c>GET /v1/stats/stream</c>); bound from <c>Herald:Stats</c>.</summary>
public sealed class StatsOptions
{
    /// <summary>
    /// Who may read the stats. <see cref="Access.ServerOnly"/> by default: the answer names the
    /// busiest channels, and a channel name may name a person (<c>user:alice</c>).
    /// </summary>
    public Access Access { get; set; } = Access.ServerOnly;

    /// <summary>How often the node samples its counters, and so the stream's event interval and the window of each rate.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many channels <c>topChannels</c> lists.</summary>
    public int TopChannels { get; set; } = 10;

    /// <summary>Stats streams open at once on this node; more are answered 429 (<c>too_many_streams</c>).</summary>
    public int MaxStreams { get; set; } = 100;

    internal IEnumerable<string> Validate()
    {
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromMinutes(1))
            yield return "Herald:Stats:Interval must be from 00:00:00.1 to 00:01:00.";
        if (TopChannels is < 1 or > 1000)
            yield return "Herald:Stats:TopChannels must be from 1 to 1000.";
        if (MaxStreams < 1)
            yield return "Herald:Stats:MaxStreams must be at least 1.";
    }
}
