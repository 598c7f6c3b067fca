using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class SlowConsumerTests
{
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task A_session_that_never_drains_is_closed_as_slow_while_a_healthy_one_gets_every_message()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var slowTransport = new TestTransport { NeverDrain = true };
        var healthyTransport = new TestTransport();
        var slow = new Session(slowTransport, hub, new HeraldOptions { MaxQueuedBytesPerSession = 64 * 1024 });
        // The healthy session's budget holds the whole run, so the test does not depend on how
        // fast its writer is scheduled.
        await using var healthy = new Session(healthyTransport, hub, new HeraldOptions { MaxQueuedBytesPerSession = 64 * 1024 * 1024 });
        await slow.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);
        await healthy.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:lobby", 5000, payloadBytes: 100);

        await slow.Completion.WaitAsync(s_timeout);
        Assert.Equal(DisconnectReason.SlowConsumer, slow.CloseReason);
        Assert.Equal(DisconnectReason.SlowConsumer, await slowTransport.Closed.Task.WaitAsync(s_timeout));
        Assert.Equal(3008, DisconnectReason.SlowConsumer.Code);
        Assert.Equal(0, slow.QueuedBytes);
        Assert.Empty(slow.GetChannels());

        await healthyTransport.WaitForMessagesAsync(5000);
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), healthyTransport.Offsets("chat:lobby"));
        Assert.Equal(1, hub.GetSubscriberCount("chat:lobby"));
    }

    [Fact]
    public async Task A_slow_session_is_closed_at_the_byte_budget_not_before()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transport = new TestTransport { NeverDrain = true };
        var session = new Session(transport, hub, new HeraldOptions { MaxQueuedBytesPerSession = 10_000 });
        await session.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        // The first message is taken by the (stuck) writer; then the queue fills up to its budget.
        await log.PublishAsync("chat:lobby", 1, payloadBytes: 900);
        await transport.WriteStarted.Task.WaitAsync(s_timeout);
        var data = System.Text.Encoding.UTF8.GetBytes($"{{\"pad\":\"{new string('x', 900)}\"}}");
        var accepted = 0;
        while (true)
        {
            var queuedBefore = session.QueuedBytes;
            var (publication, _, _) = await log.AppendAsync(new Herald.Engine.AppendRequest("chat:lobby", data, Herald.Engine.Retention.Default));
            var size = PublicationEncoder.Encode(publication, WireFormat.Json).Length;
            if (session.Queue.IsClosed)
            {
                Assert.True(queuedBefore + size > 10_000, $"closed at {queuedBefore} + {size} bytes");
                break;
            }

            accepted++;
            Assert.Equal(queuedBefore + size, session.QueuedBytes);
            Assert.True(session.QueuedBytes <= 10_000);
        }

        Assert.InRange(accepted, 8, 10);
        await session.Completion.WaitAsync(s_timeout);
        Assert.Equal(DisconnectReason.SlowConsumer, session.CloseReason);
        Assert.Equal(0, hub.GetSubscriberCount("chat:lobby"));
    }
}
