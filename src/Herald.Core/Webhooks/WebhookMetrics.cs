using System.Diagnostics.Metrics;
using Herald.Diagnostics;

namespace Herald.Webhooks;

/// <summary>Webhook instruments, on the <c>Herald</c> meter beside the hub's (<c>dotnet-counters monitor -n herald --counters Herald</c>).</summary>
internal static class WebhookMetrics
{
    private static readonly Meter s_meter = Diagnostics.HeraldMetrics.Meter;

    /// <summary>Inbound deliveries accepted (tags: <c>source</c>, <c>outcome</c> = <c>published</c> or <c>duplicate</c>).</summary>
    public static Counter<long> InboundAccepted { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.inbound.accepted", "{delivery}", "Inbound webhook deliveries verified and published (or recognised as duplicates)");

    /// <summary>Inbound deliveries refused (tags: <c>source</c>, <c>reason</c> = the problem code).</summary>
    public static Counter<long> InboundRejections { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.inbound.rejections", "{delivery}", "Inbound webhook deliveries rejected");

    /// <summary>Outbox rows written: one per publication and matching subscription.</summary>
    public static Counter<long> DeliveriesCreated { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.outbound.created", "{delivery}", "Outbound webhook deliveries queued in the outbox");

    /// <summary>Presence events (<c>channel.occupied</c> and the rest) that could not be written to the outbox, and so are lost.</summary>
    public static Counter<long> EventsFailed { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.outbound.events.failed", "{event}", "Outbound webhook events lost because the outbox could not be written");

    /// <summary>HTTP attempts (tag <c>outcome</c>: <c>delivered</c>, <c>failed</c>, <c>gone</c>).</summary>
    public static Counter<long> Attempts { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.outbound.attempts", "{attempt}", "Outbound webhook attempts");

    /// <summary>Time from sending the request to its answer (or failure).</summary>
    public static Histogram<double> AttemptDuration { get; } =
        s_meter.CreateHistogram<double>("herald.webhooks.outbound.attempt.duration", "ms", "Outbound webhook attempt latency");

    /// <summary>Deliveries that got a 2xx.</summary>
    public static Counter<long> Delivered { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.outbound.delivered", "{delivery}", "Outbound webhook deliveries delivered");

    /// <summary>Deliveries dead-lettered after their last attempt or a 410 Gone.</summary>
    public static Counter<long> DeadLettered { get; } =
        s_meter.CreateCounter<long>("herald.webhooks.outbound.dead_letters", "{delivery}", "Outbound webhook deliveries dead-lettered");
}
