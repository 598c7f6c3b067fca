using System.Text;
using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class SubscribeRecoveryTests
{
    private const string Channel = "chat:lobby";
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    private static IEnumerable<long> Range(long first, long last) =>
        Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);

    [Fact]
    public async Task Resume_while_publishes_race_delivers_every_missed_and_new_offset_once_in_order()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 50);
        var epoch = (await log.GetStateAsync(Channel)).Epoch;

        // Publishes that land after registration but before the history read: they are both in
        // history and in the live buffer, and must be sent once.
        var hooked = 0;
        log.BeforeRead = async (_, _) =>
        {
            if (Interlocked.Exchange(ref hooked, 1) == 0)
                await log.PublishAsync(Channel, 10);
        };

        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        using var start = new ManualResetEventSlim();
        var publisher = Task.Run(async () =>
        {
            start.Wait();
            for (var i = 0; i < 490; i++)
            {
                await log.PublishAsync(Channel, 1);
                if (i % 7 == 0)
                    await Task.Yield();
            }
        });

        start.Set();
        var result = await session.SubscribeAsync(Channel, new Position(epoch, 20), log).AsTask().WaitAsync(s_timeout);
        await publisher.WaitAsync(s_timeout);

        Assert.True(result.Recovered);
        await transport.WaitForMessagesAsync(530);
        Assert.Equal(Range(21, 550), transport.Offsets(Channel));
    }

    [Fact]
    public async Task Resume_against_the_memory_log_while_publishes_race_is_exact()
    {
        var hub = new ChannelHub();
        await using var log = new MemoryChannelLog(hub);
        var data = Encoding.UTF8.GetBytes("{\"n\":1}");
        async Task Publish(int count)
        {
            for (var i = 0; i < count; i++)
                await log.AppendAsync(new AppendRequest(Channel, data, Retention.Default with { HistorySize = 10_000 }));
        }

        await Publish(50);
        var epoch = (await log.GetStateAsync(Channel)).Epoch;
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);

        var publisher = Task.Run(() => Publish(500));
        var result = await session.SubscribeAsync(Channel, new Position(epoch, 20), log).AsTask().WaitAsync(s_timeout);
        await publisher.WaitAsync(s_timeout);

        Assert.True(result.Recovered);
        await transport.WaitForMessagesAsync(530);
        Assert.Equal(Range(21, 550), transport.Offsets(Channel));
    }

    [Fact]
    public async Task History_longer_than_one_page_is_replayed_completely()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 2 * Session.HistoryPageSize + 500);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub, new HeraldOptions { MaxQueuedBytesPerSession = 4096 });

        // A 4 KiB budget is far below the replayed history: replay waits for the writer instead
        // of disconnecting the client it is trying to catch up.
        var result = await session.SubscribeAsync(Channel, new Position("any", 0), log).AsTask().WaitAsync(s_timeout);

        Assert.True(result.Recovered);
        await transport.WaitForMessagesAsync(2500);
        Assert.Equal(Range(1, 2500), transport.Offsets(Channel));
        Assert.Equal(3, log.Reads);
        Assert.Null(session.CloseReason);
    }

    [Fact]
    public async Task Offset_zero_means_from_the_beginning_in_any_epoch()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 5);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);

        var result = await session.SubscribeAsync(Channel, new Position("some-old-epoch", 0), log).AsTask().WaitAsync(s_timeout);
        await log.PublishAsync(Channel, 1);

        Assert.True(result.Recovered);
        await transport.WaitForMessagesAsync(6);
        Assert.Equal(Range(1, 6), transport.Offsets(Channel));
    }

    [Fact]
    public async Task A_stale_epoch_is_not_recovered_and_delivery_starts_live_from_the_top()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 5);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);

        var result = await session.SubscribeAsync(Channel, new Position("old-epoch", 3), log).AsTask().WaitAsync(s_timeout);
        await log.PublishAsync(Channel, 2);

        Assert.False(result.Recovered);
        Assert.Equal(5, result.State.Top);
        await transport.WaitForMessagesAsync(2);
        Assert.Equal([6L, 7L], transport.Offsets(Channel));
    }

    [Fact]
    public async Task A_position_that_fell_out_of_retention_is_not_recovered()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 30, historySize: 10);
        var state = await log.GetStateAsync(Channel);
        Assert.Equal(21, state.First);

        var lostTransport = new TestTransport();
        await using var lost = new Session(lostTransport, hub);
        var lostResult = await lost.SubscribeAsync(Channel, new Position(state.Epoch, 5), log).AsTask().WaitAsync(s_timeout);
        var fromZero = await new Session(new TestTransport(), hub).SubscribeAsync("chat:other", new Position("x", 0), log).AsTask().WaitAsync(s_timeout);
        var zeroAfterEviction = await new Session(new TestTransport(), hub).SubscribeAsync(Channel, new Position("x", 0), log).AsTask().WaitAsync(s_timeout);

        // The oldest retained offset is 21, so a client that saw 20 misses nothing.
        var edgeTransport = new TestTransport();
        await using var edge = new Session(edgeTransport, hub);
        var edgeResult = await edge.SubscribeAsync(Channel, new Position(state.Epoch, 20), log).AsTask().WaitAsync(s_timeout);

        Assert.False(lostResult.Recovered);
        Assert.True(fromZero.Recovered);
        Assert.False(zeroAfterEviction.Recovered);
        Assert.True(edgeResult.Recovered);
        await edgeTransport.WaitForMessagesAsync(10);
        Assert.Equal(Range(21, 30), edgeTransport.Offsets(Channel));

        await log.PublishAsync(Channel, 1, historySize: 10);
        await lostTransport.WaitForMessagesAsync(1);
        Assert.Equal([31L], lostTransport.Offsets(Channel));
    }

    [Fact]
    public async Task A_position_ahead_of_the_log_is_not_recovered()
    {
        var log = new TestChannelLog();
        await log.PublishAsync(Channel, 3);
        var state = await log.GetStateAsync(Channel);

        Assert.False(Session.CanRecover(new Position(state.Epoch, 4), state));
        Assert.True(Session.CanRecover(new Position(state.Epoch, 3), state));
        Assert.True(Session.CanRecover(null, state));
        Assert.True(Session.CanRecover(new Position("", 0), StreamState.Empty));
        Assert.False(Session.CanRecover(new Position("e9", 1), StreamState.Empty));
    }

    [Fact]
    public async Task No_position_means_live_from_now_with_nothing_replayed()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 5);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);

        var result = await session.SubscribeAsync(Channel, since: null, log).AsTask().WaitAsync(s_timeout);
        await log.PublishAsync(Channel, 1);

        Assert.True(result.Recovered);
        Assert.Equal(0, log.Reads);
        await transport.WaitForMessagesAsync(1);
        Assert.Equal([6L], transport.Offsets(Channel));
    }

    [Fact]
    public async Task The_subscribe_reply_is_queued_before_any_publication_of_the_channel()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 3);
        var epoch = (await log.GetStateAsync(Channel)).Epoch;
        log.BeforeRead = async (_, _) => await log.PublishAsync(Channel, 1);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);

        await session.SubscribeAsync(
            Channel,
            new Position(epoch, 1),
            log,
            result => Encoding.UTF8.GetBytes($"{{\"type\":\"subscribed\",\"recovered\":{(result.Recovered ? "true" : "false")}}}"))
            .AsTask().WaitAsync(s_timeout);

        await transport.WaitForMessagesAsync(4);
        Assert.Equal("{\"type\":\"subscribed\",\"recovered\":true}", Encoding.UTF8.GetString(transport.Messages[0].Span));
        Assert.Equal([2L, 3L, 4L], transport.Offsets(Channel));
    }

    [Fact]
    public async Task History_lost_during_replay_closes_the_session_with_insufficient_state()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 20, historySize: 20);
        var epoch = (await log.GetStateAsync(Channel)).Epoch;
        // Between the state read and the history read, retention drops offsets 6..15.
        log.BeforeRead = async (_, _) => await log.PublishAsync(Channel, 10, historySize: 10);
        var transport = new TestTransport();
        var session = new Session(transport, hub);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => session.SubscribeAsync(Channel, new Position(epoch, 5), log).AsTask().WaitAsync(s_timeout));

        await session.Completion.WaitAsync(s_timeout);
        Assert.Equal(DisconnectReason.InsufficientState, session.CloseReason);
        Assert.Equal(0, hub.GetSubscriberCount(Channel));
    }

    [Fact]
    public async Task Subscribing_twice_to_one_channel_is_refused()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await using var session = new Session(new TestTransport(), hub);
        await session.SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => session.SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout));
        Assert.Equal(1, hub.GetSubscriberCount(Channel));
    }
}
