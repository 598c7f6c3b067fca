using System.Text;
using System.Text.Json;
using Herald.Webhooks.Outbound;

namespace Herald.Specification;

/// <summary>Event types: the subscription filter, presence events through the outbox, and the routes presence reads.</summary>
public abstract partial class WebhookStoreSpec
{
    private static readonly string[] s_presenceEvents =
        [WebhookEventTypes.ChannelOccupied, WebhookEventTypes.ChannelVacated, WebhookEventTypes.PresenceJoin, WebhookEventTypes.PresenceLeave];

    [Fact]
    public async Task Event_types_are_stored_with_the_subscription_default_to_publication_and_are_patched()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_default", ["a:*"]), 10).AsTask().WaitAsync(Timeout);
        await s.Subscriptions.CreateAsync(Subscription("sub_presence", ["a:*"], events: [WebhookEventTypes.ChannelOccupied, WebhookEventTypes.PresenceJoin]), 10);

        Assert.Equal([WebhookEventTypes.Publication], (await s.Subscriptions.GetAsync("sub_default"))!.Events);
        Assert.Equal([WebhookEventTypes.ChannelOccupied, WebhookEventTypes.PresenceJoin], (await s.Subscriptions.GetAsync("sub_presence"))!.Events);
        Assert.Equal(
            [[WebhookEventTypes.Publication], [WebhookEventTypes.ChannelOccupied, WebhookEventTypes.PresenceJoin]],
            (await s.Subscriptions.ListAsync()).OrderBy(x => x.Id, StringComparer.Ordinal).Select(x => x.Events.ToArray()));

        var patched = await s.Subscriptions.UpdateAsync("sub_default", new SubscriptionPatch(Events: [WebhookEventTypes.Publication, WebhookEventTypes.ChannelVacated])).AsTask().WaitAsync(Timeout);
        Assert.Equal([WebhookEventTypes.Publication, WebhookEventTypes.ChannelVacated], patched!.Events);
        var untouched = await s.Subscriptions.UpdateAsync("sub_default", new SubscriptionPatch(Ordered: true));
        Assert.Equal([WebhookEventTypes.Publication, WebhookEventTypes.ChannelVacated], untouched!.Events);
        Assert.Equal([WebhookEventTypes.Publication, WebhookEventTypes.ChannelVacated], (await s.Subscriptions.GetAsync("sub_default"))!.Events);
    }

    [Fact]
    public async Task Publications_go_only_to_subscriptions_that_receive_them_and_events_only_to_those_that_name_their_type()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_pub", ["room:*"]), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_presence", ["room:*"], events: s_presenceEvents), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_both", ["room:a"], events: [WebhookEventTypes.Publication, WebhookEventTypes.ChannelVacated]), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_elsewhere", ["chat:*"], events: s_presenceEvents), 10);
        await s.Subscriptions.CreateAsync(Subscription("sub_off", ["room:*"], enabled: false, events: s_presenceEvents), 10);

        var publication = await Append(s, "room:a", "1");
        var occupied = Event(WebhookEventTypes.ChannelOccupied, "room:a");
        var join = Event(WebhookEventTypes.PresenceJoin, "room:a", """{"type":"presence.join","channel":"room:a","user":"alice","info":{"name":"Alice"},"time":"2026-01-01T00:00:00Z"}""");
        var vacated = Event(WebhookEventTypes.ChannelVacated, "room:a");
        var made = await s.Outbox.EnqueueEventsAsync([occupied, join, vacated]).AsTask().WaitAsync(Timeout);
        Assert.Equal(4, made);

        Assert.Equal(["msg_" + publication.Id], (await Due(s, "sub_pub")).Due.Select(d => d.WebhookId));
        var presence = (await Due(s, "sub_presence")).Due;
        Assert.Equal([occupied.WebhookId, join.WebhookId, vacated.WebhookId], presence.Select(d => d.WebhookId));
        Assert.All(presence, d => Assert.StartsWith("evt_", d.WebhookId, StringComparison.Ordinal));
        Assert.Equal(Encoding.UTF8.GetString(join.Body.Span), Encoding.UTF8.GetString(presence[1].Body.Span));
        Assert.Equal(["msg_" + publication.Id, vacated.WebhookId], (await Due(s, "sub_both")).Due.Select(d => d.WebhookId));
        Assert.Empty((await Due(s, "sub_elsewhere")).Due);
        Assert.Empty((await Due(s, "sub_off")).Due);
        Assert.Contains("sub_presence", Listener.Queued);

        // Listed with their type; an event has no offset.
        var listed = (await s.Outbox.ListAsync(new DeliveryQuery("sub_both", null, null, null, 10))).Deliveries;
        Assert.Equal([(WebhookEventTypes.ChannelVacated, (long?)null), (WebhookEventTypes.Publication, publication.Offset)], listed.Select(d => (d.Type, d.Offset)));
        Assert.Equal(vacated.WebhookId, listed[0].WebhookId);
        Assert.Equal("room:a", listed[0].Channel);
    }

    [Fact]
    public async Task An_event_delivery_is_retried_and_replayed_with_its_own_body_and_webhook_id()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_a", ["room:*"], events: s_presenceEvents), 10);
        var leave = Event(WebhookEventTypes.PresenceLeave, "room:b", """{"type":"presence.leave","channel":"room:b","user":"bob","time":"2026-01-01T00:00:00Z"}""");
        await s.Outbox.EnqueueEventsAsync([leave]).AsTask().WaitAsync(Timeout);

        var first = Assert.Single((await Due(s, "sub_a")).Due);
        await Record(s, first, 500, DeliveryStatus.Pending, NowMs + 5000);
        Time.Advance(TimeSpan.FromSeconds(5));
        var retry = Assert.Single((await Due(s, "sub_a")).Due);
        Assert.Equal((first.Id, leave.WebhookId, 1), (retry.Id, retry.WebhookId, retry.Attempts));
        await Record(s, retry, 500, DeliveryStatus.Dead, NowMs);
        Assert.Empty((await Due(s, "sub_a")).Due);

        Assert.Equal(ReplayOutcome.Replayed, await s.Outbox.ReplayAsync(first.Id).AsTask().WaitAsync(Timeout));
        var replayed = Assert.Single((await Due(s, "sub_a")).Due);
        Assert.Equal(leave.WebhookId, replayed.WebhookId);
        using var body = JsonDocument.Parse(replayed.Body);
        Assert.Equal("bob", body.RootElement.GetProperty("user").GetString());
        var stored = await s.Outbox.GetAsync(first.Id);
        Assert.Equal((WebhookEventTypes.PresenceLeave, (long?)null, 2), (stored!.Type, stored.Offset, stored.Attempts.Count));
    }

    [Fact]
    public async Task Routes_say_whether_any_enabled_subscription_wants_a_presence_event_on_a_channel()
    {
        var s = NewStores();
        await s.Subscriptions.CreateAsync(Subscription("sub_pub", ["room:*"]), 10).AsTask().WaitAsync(Timeout);
        Assert.False(s.Outbox.Routes.HasEvents);
        Assert.Equal(0, await s.Outbox.EnqueueEventsAsync([Event(WebhookEventTypes.ChannelOccupied, "room:a")]).AsTask().WaitAsync(Timeout));

        await s.Subscriptions.CreateAsync(Subscription("sub_join", ["room:vip-*"], events: [WebhookEventTypes.PresenceJoin]), 10).AsTask().WaitAsync(Timeout);
        var routes = s.Outbox.Routes;
        Assert.True(routes.HasEvents);
        Assert.True(routes.Wants(WebhookEventTypes.PresenceJoin, "room:vip-1"));
        Assert.False(routes.Wants(WebhookEventTypes.PresenceJoin, "room:a"));
        Assert.False(routes.Wants(WebhookEventTypes.PresenceLeave, "room:vip-1"));
        Assert.True(routes.Publications.Matches("room:a"));

        await s.Subscriptions.UpdateAsync("sub_join", new SubscriptionPatch(Enabled: false)).AsTask().WaitAsync(Timeout);
        Assert.False(s.Outbox.Routes.HasEvents);
    }

    private static WebhookEvent Event(string type, string channel, string? json = null) =>
        new(WebhookEvent.NewId(), type, channel, Encoding.UTF8.GetBytes(json ?? $$"""{"type":"{{type}}","channel":"{{channel}}","time":"2026-01-01T00:00:00Z"}"""));
}
