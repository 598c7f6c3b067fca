using System.Diagnostics.Metrics;
using Herald.Diagnostics;
using Herald.Hub;
using Herald.Transports;
using Microsoft.Extensions.Hosting;

namespace Herald.Stats;

/// <summary>
/// The node's state as observable instruments on the <c>Herald</c> meter (docs/metrics.md): read
/// only when an exporter collects, from counts the node keeps anyway, so they cost nothing between
/// scrapes and nothing on the hot path.
/// </summary>
/// <remarks>
/// Created by the host at start (a hosted service with nothing to run), from the container's
/// <see cref="IMeterFactory"/>, so the instruments go with the node they observe.
/// </remarks>
internal sealed class NodeGauges : IHostedService
{
    /// <summary>The push transports, always all reported (0 included), so a dashboard's series never vanish.</summary>
    internal static readonly string[] Transports = ["ws", "sse", "stream"];

    public NodeGauges(IMeterFactory meters, Node node, ConnectionRegistry registry, PollCounters polls)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(HeraldMetrics.MeterName);
        meter.CreateObservableUpDownCounter("herald.connections", () => Connections(registry), "{connection}",
            "Open push connections on this node (tag transport: ws, sse, stream)");
        meter.CreateObservableUpDownCounter("herald.node.channels", () => node.ChannelCount, "{channel}",
            "Channels this node follows from the broker (local readers, or lingering after the last left)");
        meter.CreateObservableUpDownCounter("herald.hub.channels", () => node.Hub.ChannelCount, "{channel}",
            "Channels with at least one subscribed connection on this node");
        meter.CreateObservableCounter("herald.node.publications", () => node.PublicationCount, "{publication}",
            "Publications the broker handed to this node (on one node: every publication committed)");
        meter.CreateObservableCounter("herald.node.duplicates", () => node.DuplicateCount, "{publication}",
            "Broker messages dropped because the node had delivered that offset already");
        meter.CreateObservableCounter("herald.node.repaired", () => node.RepairedCount, "{publication}",
            "Publications read back from the log to fill a gap the broker left");
        meter.CreateObservableCounter("herald.node.resets", () => node.ResetCount, "{reset}",
            "Channels reset because their epoch changed (history lost) while local readers followed them");
        meter.CreateObservableCounter("herald.poll.short", () => polls.ShortPolls, "{request}",
            "Short polls answered: history reads and /v1/poll?wait=0");
        meter.CreateObservableCounter("herald.poll.long", () => polls.LongPolls, "{request}",
            "Long polls held (/v1/poll with wait > 0 that got a slot)");
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static IEnumerable<Measurement<int>> Connections(ConnectionRegistry registry)
    {
        foreach (var transport in Transports)
            yield return new Measurement<int>(registry.CountOf(transport), new KeyValuePair<string, object?>("transport", transport));
    }
}
