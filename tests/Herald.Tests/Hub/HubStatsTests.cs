using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class HubStatsTests
{
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task The_hub_counts_every_publication_and_one_delivery_per_recipient()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await using var first = new Session(new TestTransport(), hub);
        await using var second = new Session(new TestTransport(), hub);
        await first.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);
        await second.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:lobby", 3);
        await log.PublishAsync("chat:empty", 2);

        Assert.Equal(5, hub.PublicationCount);
        Assert.Equal(6, hub.DeliveryCount);
        Assert.Equal(0, hub.SlowConsumerDisconnectCount);
    }

    [Fact]
    public async Task Top_channels_lists_the_busiest_first_ties_in_name_order_and_no_more_than_asked()
    {
        var hub = new ChannelHub(shardCount: 4);
        var log = new TestChannelLog(hub);
        var sessions = new List<Session>();
        try
        {
            foreach (var (channel, subscribers) in ((string, int)[])[("chat:b", 2), ("chat:a", 2), ("chat:big", 5), ("chat:one", 1), ("chat:c", 3)])
            {
                for (var i = 0; i < subscribers; i++)
                {
                    var session = new Session(new TestTransport(), hub);
                    sessions.Add(session);
                    await session.SubscribeAsync(channel, null, log).AsTask().WaitAsync(s_timeout);
                }
            }

            Assert.Equal(
                [new("chat:big", 5), new("chat:c", 3), new("chat:a", 2), new("chat:b", 2)],
                hub.TopChannels(4));
            Assert.Equal(5, hub.TopChannels(100).Count);
            Assert.Equal([new ChannelSubscribers("chat:big", 5)], hub.TopChannels(1));
            Assert.Throws<ArgumentOutOfRangeException>(() => hub.TopChannels(0));

            await sessions[^1].DisposeAsync();
            Assert.Equal([new ChannelSubscribers("chat:big", 5), new ChannelSubscribers("chat:a", 2)], hub.TopChannels(2));
        }
        finally
        {
            foreach (var session in sessions)
                await session.DisposeAsync();
        }

        Assert.Empty(hub.TopChannels(10));
    }

    [Fact]
    public async Task A_slow_consumer_disconnect_is_counted_by_its_hub()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var slow = new Session(new TestTransport { NeverDrain = true }, hub, new HeraldOptions { MaxQueuedBytesPerSession = 4096 });
        await slow.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:lobby", 100, payloadBytes: 200);

        await slow.Completion.WaitAsync(s_timeout);
        Assert.Equal(DisconnectReason.SlowConsumer, slow.CloseReason);

        // Counted on the thread that closes the session, just after the close begins.
        Assert.True(SpinWait.SpinUntil(() => hub.SlowConsumerDisconnectCount == 1, s_timeout), $"counted {hub.SlowConsumerDisconnectCount}");
    }
}
