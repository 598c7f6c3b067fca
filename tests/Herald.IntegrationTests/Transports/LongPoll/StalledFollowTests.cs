using System.Diagnostics;
using System.Net;
using Herald.Engine;

namespace Herald.IntegrationTests.Transports.LongPoll;

/// <summary>
/// A node that cannot follow a channel yet (its broker subscription hangs, as after an engine outage)
/// still answers polls from the log, and a held poll never waits past its <c>wait</c> for it.
/// </summary>
public sealed class StalledFollowTests
{
    [Fact]
    public async Task A_poll_answers_from_the_log_while_the_node_cannot_follow_the_channel_and_holds_once_it_can()
    {
        var engine = new GatedEngine();
        await using var server = await TestServer.StartAsync("memory", engine: b => b.UseEngine("gated", engine.Create));
        using var client = server.CreateClient();
        const string channel = "chat:stalled";
        var start = (await client.PollAsync(channel, wait: 0)).Cursor;
        await client.PublishDataAsync(channel, "1");
        await client.PublishDataAsync(channel, "2");

        // The broker's subscribe hangs: what the log holds is answered at once all the same.
        var read = await client.PollAsync(channel, start, wait: 50);
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal([1L, 2L], read.Publications.Offsets());

        // Nothing new and still not followed: answered empty when the wait is over, not held past it.
        var clock = Stopwatch.StartNew();
        var empty = await client.PollAsync(channel, read.Cursor, wait: 2);
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Empty(empty.Publications.Offsets());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"answered after {clock.Elapsed}");
        Assert.Equal(read.Cursor, empty.Cursor);

        // Followed from now on: a held poll is woken by the next publication.
        engine.Broker.Open.TrySetResult();
        var held = client.PollAsync(channel, empty.Cursor, wait: 50);
        await server.WaitUntilWaitingAsync(1);
        var offset = await client.PublishDataAsync(channel, "3");
        Assert.Equal([offset], (await held).Publications.Offsets());
    }

    /// <summary>The memory engine with a broker whose subscribe waits until <see cref="GatedBroker.Open"/> completes.</summary>
    private sealed class GatedEngine
    {
        public GatedBroker Broker { get; private set; } = null!;

        public HeraldEngine Create(IServiceProvider services)
        {
            var engine = HeraldEngineExtensions.CreateMemory(services);
            Broker = new GatedBroker(engine.Broker);
            return engine with { Name = "gated", Broker = Broker };
        }
    }

    private sealed class GatedBroker(IBroker inner) : IBroker
    {
        public IBroker Inner { get; } = inner;

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool MayLoseMessages => false;

        public void Start(IBrokerHandler handler) => Inner.Start(handler);

        public async ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            await Open.Task.WaitAsync(cancellationToken);
            await Inner.SubscribeAsync(channel, cancellationToken);
        }

        public ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default) => Inner.UnsubscribeAsync(channel, cancellationToken);

        public ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default) => Inner.PublishEventAsync(channelEvent, cancellationToken);

        public ValueTask DisposeAsync() => Inner.DisposeAsync();
    }
}
