using System.Diagnostics.Metrics;

namespace Herald.Diagnostics;

/// <summary>Herald's instruments, on the <c>Herald</c> meter (<c>dotnet-counters monitor -n herald --counters Herald</c>).</summary>
public static class HeraldMetrics
{
    public const string MeterName = "Herald";

    // A static meter (not IMeterFactory) because the hub's hot path must not look anything up;
    // instruments without tags are allocation-free to record.
    private static readonly Meter s_meter = new(MeterName);

    /// <summary>The one <c>Herald</c> meter, for instruments defined beside their feature (<c>WebhookMetrics</c>).</summary>
    internal static Meter Meter => s_meter;

    /// <summary>Publications the hub fanned out to at least one local subscriber.</summary>
    public static Counter<long> PublicationsFannedOut { get; } =
        s_meter.CreateCounter<long>("herald.hub.publications", "{publication}", "Publications fanned out to local subscribers");

    /// <summary>Publications enqueued to a session (one per recipient).</summary>
    public static Counter<long> Deliveries { get; } =
        s_meter.CreateCounter<long>("herald.hub.deliveries", "{delivery}", "Publications enqueued to sessions");

    /// <summary>Sessions closed with <see cref="DisconnectReason.SlowConsumer"/>, tagged <c>transport</c> (<c>ws</c>, <c>sse</c>, <c>stream</c>).</summary>
    public static Counter<long> SlowConsumerDisconnects { get; } =
        s_meter.CreateCounter<long>("herald.session.slow_consumer_disconnects", "{session}", "Sessions disconnected because their outbound queue was full (tag transport)");

    /// <summary>Batches handed to transports; messages / batches is the writer's coalescing factor.</summary>
    public static Counter<long> BatchesWritten { get; } =
        s_meter.CreateCounter<long>("herald.session.batches", "{batch}", "Batches written by session writer loops");

    /// <summary>Publishes refused with <c>503 engine_unavailable</c> because the engine could not be reached (every entry point: HTTP, WebSocket, inbound webhooks).</summary>
    public static Counter<long> EngineUnavailable { get; } =
        s_meter.CreateCounter<long>("herald.engine.unavailable", "{publish}", "Publishes refused because the engine could not be reached");

    /// <summary>Messages handed to transports.</summary>
    public static Counter<long> MessagesWritten { get; } =
        s_meter.CreateCounter<long>("herald.session.messages", "{message}", "Messages written by session writer loops");
}
