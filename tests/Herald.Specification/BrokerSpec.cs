using System.Text;
using Herald.Engine;

namespace Herald.Specification;

/// <summary>
/// What every <see cref="IBroker"/> must do for the node above it, run once per broker by a
/// subclass: deliver, after the subscribe completed, every publication the log commits on the
/// channel, in offset order, and the channel's ephemeral events — as long as nothing disturbs the
/// connection (repairing what a lossy broker loses is the node's job, tested there).
/// </summary>
public abstract class BrokerSpec : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly Retention s_roomy = new(100_000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>A log and a broker of one node of a fresh engine; both are disposed by <see cref="DisposeAsync"/>.</summary>
    protected abstract Task<(IChannelLog Log, IBroker Broker)> CreateAsync();

    protected void Own(IAsyncDisposable resource) => _owned.Add(resource);

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    protected static Task<AppendResult> AppendAsync(IChannelLog log, string channel, int n) =>
        log.AppendAsync(new AppendRequest(channel, Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"), s_roomy)).AsTask().WaitAsync(Timeout);

    [Fact]
    public async Task A_subscribed_channel_receives_every_publication_committed_after_the_subscribe_in_offset_order()
    {
        var (log, broker) = await CreateAsync();
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);

        for (var i = 1; i <= 200; i++)
            await AppendAsync(log, "chat:a", i);

        await RecordingHandler.WaitUntilAsync(() => handler.OffsetsOf("chat:a").Count >= 200, "200 publications", Timeout);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), handler.OffsetsOf("chat:a"));
    }

    [Fact]
    public async Task Channels_published_concurrently_interleave_but_each_keeps_its_offset_order()
    {
        var (log, broker) = await CreateAsync();
        var handler = new RecordingHandler();
        broker.Start(handler);
        string[] channels = ["chat:x", "chat:y", "chat:z"];
        foreach (var channel in channels)
            await broker.SubscribeAsync(channel).AsTask().WaitAsync(Timeout);

        await Task.WhenAll(channels.Select(async channel =>
        {
            for (var i = 1; i <= 100; i++)
                await AppendAsync(log, channel, i);
        }));

        await RecordingHandler.WaitUntilAsync(() => channels.All(c => handler.OffsetsOf(c).Count >= 100), "100 publications per channel", Timeout);
        foreach (var channel in channels)
            Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), handler.OffsetsOf(channel));
    }

    [Fact]
    public async Task The_publication_delivered_is_the_one_the_log_committed()
    {
        var (log, broker) = await CreateAsync();
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);

        var appended = (await log.AppendAsync(new AppendRequest("chat:a", "{\"text\":\"hi\"}"u8.ToArray(), s_roomy, From: "alice", Type: "message")).AsTask().WaitAsync(Timeout)).Publication;
        var action = (await log.AppendAsync(new AppendRequest("chat:a", "{}"u8.ToArray(), s_roomy, Type: "herald.react", Countable: false)).AsTask().WaitAsync(Timeout)).Publication;

        await RecordingHandler.WaitUntilAsync(() => handler.Publications.Count >= 2, "the publications", Timeout);
        var received = handler.Publications[0];
        Assert.Equal((appended.Channel, appended.Offset, appended.Epoch, appended.Id, appended.Time, appended.From, appended.Type, appended.N, appended.Countable),
            (received.Channel, received.Offset, received.Epoch, received.Id, received.Time, received.From, received.Type, received.N, received.Countable));
        Assert.Equal("{\"text\":\"hi\"}", Encoding.UTF8.GetString(received.Data.Span));
        Assert.Equal((1L, true), (received.N, received.Countable));
        Assert.Equal((action.Offset, 1L, false), (handler.Publications[1].Offset, handler.Publications[1].N, handler.Publications[1].Countable));
    }

    [Fact]
    public async Task An_event_reaches_the_handler_of_every_subscriber_of_its_channel_including_the_sender()
    {
        var (_, broker) = await CreateAsync();
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);

        await broker.PublishEventAsync(new ChannelEvent("chat:a", "typing", "{\"user\":\"alice\"}"u8.ToArray())).AsTask().WaitAsync(Timeout);

        await RecordingHandler.WaitUntilAsync(() => handler.Events.Count >= 1, "the event", Timeout);
        var received = Assert.Single(handler.Events);
        Assert.Equal(("chat:a", "typing", "{\"user\":\"alice\"}"), (received.Channel, received.Kind, Encoding.UTF8.GetString(received.Payload.Span)));
    }

    [Fact]
    public async Task A_broker_is_started_once()
    {
        var (_, broker) = await CreateAsync();
        broker.Start(new RecordingHandler());
        Assert.Throws<InvalidOperationException>(() => broker.Start(new RecordingHandler()));
    }

    [Fact]
    public async Task After_dispose_the_handler_hears_nothing_more()
    {
        var (log, broker) = await CreateAsync();
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        await AppendAsync(log, "chat:a", 1);
        await RecordingHandler.WaitUntilAsync(() => handler.Publications.Count >= 1, "the first publication", Timeout);

        await broker.DisposeAsync().AsTask().WaitAsync(Timeout);
        await AppendAsync(log, "chat:a", 2);
        await Task.Delay(200);

        Assert.Equal([1L], handler.OffsetsOf("chat:a"));
    }
}
