using System.Text.Json.Serialization;

namespace Herald.Stats;

/// <summary>One sample of a node's activity: the body of <c>GET /v1/stats</c> and of each <c>stats</c> event of the stream.</summary>
/// <param name="Time">When the sample was taken (UTC).</param>
/// <param name="UptimeSeconds">Seconds since the node started.</param>
/// <param name="IntervalSeconds">The window of <paramref name="Rates"/>: the time between the last two samples.</param>
/// <param name="Connections">Connections open now, per transport.</param>
/// <param name="Rates">Per second, over the last interval.</param>
/// <param name="Totals">Since the node started.</param>
/// <param name="Channels">Channels with at least one subscriber on this node.</param>
/// <param name="TopChannels">The channels with the most subscribers on this node, most first.</param>
public sealed record StatsSnapshot(
    DateTime Time,
    double UptimeSeconds,
    double IntervalSeconds,
    ConnectionCounts Connections,
    StatsRates Rates,
    StatsTotals Totals,
    int Channels,
    IReadOnlyList<Hub.ChannelSubscribers> TopChannels);

/// <summary>Open WebSocket, SSE and streaming connections, and long polls held now.</summary>
public sealed record ConnectionCounts(int Ws, int Sse, int Stream, int LongPoll);

/// <summary>Events per second over the last sampling interval.</summary>
public sealed record StatsRates(double Publications, double Deliveries, double ShortPolls, double LongPolls)
{
    public static StatsRates Zero { get; } = new(0, 0, 0, 0);
}

/// <summary>Counts since the node started.</summary>
public sealed record StatsTotals(long Publications, long Deliveries, long SlowConsumerDisconnects, long ShortPolls, long LongPolls);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatsSnapshot))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;
