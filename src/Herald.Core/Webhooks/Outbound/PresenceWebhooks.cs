using Herald.Diagnostics;
using Herald.Engine;
using Herald.Presence;
using Microsoft.Extensions.Logging;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// Turns the presence transitions of this node's store calls into outbound webhook events
/// (<c>channel.occupied</c>, <c>presence.join</c>, <c>presence.leave</c>, <c>channel.vacated</c>)
/// and writes them to the outbox in one call. The store tells a transition only to the node whose
/// call made it, so each event is enqueued once across every node. While no enabled subscription
/// asks for a presence event (<see cref="WebhookRoutes.HasEvents"/>) presence never calls here, and an
/// event no subscription's patterns match is not even built.
/// </summary>
/// <remarks>
/// The write is the only thing a presence batch waits for; if it fails (the engine is down) the
/// events are lost, counted (<c>herald.webhooks.outbound.events.failed</c>) and logged once per
/// 10 s — presence itself goes on.
/// </remarks>
internal sealed partial class PresenceWebhooks(IWebhookOutbox outbox, ILogger<PresenceWebhooks> logger) : IPresenceObserver
{
    private readonly LogThrottle failures = new(TimeSpan.FromSeconds(10));

    public bool IsActive => outbox.Routes.HasEvents;

    public async ValueTask OnTransitionsAsync(IReadOnlyList<PresenceTransition> transitions)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        var events = Build(outbox.Routes, transitions);
        if (events.Count == 0)
            return;
        try
        {
            await outbox.EnqueueEventsAsync(events).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever the outbox failed with, presence must not: the events are counted as lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            WebhookMetrics.EventsFailed.Add(events.Count);
            if (failures.TryEnter(out var held))
                Log.EnqueueFailed(logger, events.Count, events[0].Channel, held, ex is EngineUnavailableException ? null : ex, ex.Message);
        }
    }

    /// <summary>The events some subscription wants, a channel's in the order occupied, joins, leaves, vacated.</summary>
    internal static List<WebhookEvent> Build(WebhookRoutes routes, IReadOnlyList<PresenceTransition> transitions)
    {
        var events = new List<WebhookEvent>();
        if (!routes.HasEvents)
            return events;
        foreach (var t in transitions)
        {
            if (t.Occupied && routes.Wants(WebhookEventTypes.ChannelOccupied, t.Channel))
                events.Add(Event(WebhookEventTypes.ChannelOccupied, t.Channel, WebhookEventEncoder.Channel(WebhookEventTypes.ChannelOccupied, t.Channel, t.At)));
            if (t.Joined.Count > 0 && routes.Wants(WebhookEventTypes.PresenceJoin, t.Channel))
            {
                foreach (var member in t.Joined)
                    events.Add(Event(WebhookEventTypes.PresenceJoin, t.Channel, WebhookEventEncoder.Join(t.Channel, member.User, member.Info, t.At)));
            }

            if (t.Left.Count > 0 && routes.Wants(WebhookEventTypes.PresenceLeave, t.Channel))
            {
                foreach (var user in t.Left)
                    events.Add(Event(WebhookEventTypes.PresenceLeave, t.Channel, WebhookEventEncoder.Leave(t.Channel, user, t.At)));
            }

            if (t.Vacated && routes.Wants(WebhookEventTypes.ChannelVacated, t.Channel))
                events.Add(Event(WebhookEventTypes.ChannelVacated, t.Channel, WebhookEventEncoder.Channel(WebhookEventTypes.ChannelVacated, t.Channel, t.At)));
        }

        return events;
    }

    private static WebhookEvent Event(string type, string channel, byte[] body) => new(WebhookEvent.NewId(), type, channel, body);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1805, EventName = "WebhookEventsLost", Level = LogLevel.Warning,
            Message = "{Count} presence webhook events of channel '{Channel}' could not be queued ({Error}); they are lost. ({Held} more such failures since the last line.)")]
        public static partial void EnqueueFailed(ILogger logger, int count, string channel, long held, Exception? exception, string error);
    }
}
