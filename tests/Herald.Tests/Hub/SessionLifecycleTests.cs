using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class SessionLifecycleTests
{
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task Unsubscribe_stops_delivery_and_removes_the_channel_from_the_hub()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        await session.SubscribeAsync("chat:a", null, log).AsTask().WaitAsync(s_timeout);
        await session.SubscribeAsync("chat:b", null, log).AsTask().WaitAsync(s_timeout);
        await log.PublishAsync("chat:a", 1);
        await transport.WaitForMessagesAsync(1);

        Assert.True(session.Unsubscribe("chat:a"));
        Assert.False(session.Unsubscribe("chat:a"));
        await log.PublishAsync("chat:a", 1);
        await log.PublishAsync("chat:b", 1);

        await transport.WaitForMessagesAsync(2);
        Assert.Equal([1L], transport.Offsets("chat:a"));
        Assert.Equal([1L], transport.Offsets("chat:b"));
        Assert.Equal(0, hub.GetSubscriberCount("chat:a"));
        Assert.Equal(1, hub.ChannelCount);
        Assert.False(session.IsSubscribed("chat:a"));
        Assert.Equal(["chat:b"], session.GetChannels());
    }

    [Fact]
    public async Task Dispose_removes_every_subscription_and_closes_the_transport_normally()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transport = new TestTransport();
        var session = new Session(transport, hub);
        await session.SubscribeAsync("chat:a", null, log).AsTask().WaitAsync(s_timeout);
        await session.SubscribeAsync("chat:b", null, log).AsTask().WaitAsync(s_timeout);
        Assert.Equal(2, hub.ChannelCount);

        await session.DisposeAsync().AsTask().WaitAsync(s_timeout);

        Assert.Equal(0, hub.ChannelCount);
        Assert.Equal(DisconnectReason.Normal, session.CloseReason);
        Assert.Equal(DisconnectReason.Normal, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.False(session.TrySend(new byte[] { 1 }));
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => session.SubscribeAsync("chat:c", null, log).AsTask().WaitAsync(s_timeout));
        await log.PublishAsync("chat:a", 1);
        Assert.Empty(transport.Messages);
    }

    [Fact]
    public async Task A_failing_transport_closes_its_session_with_write_error_only()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var healthy = new TestTransport();
        var failing = new FailingTransport();
        await using var good = new Session(healthy, hub);
        var bad = new Session(failing, hub);
        await good.SubscribeAsync("chat:a", null, log).AsTask().WaitAsync(s_timeout);
        await bad.SubscribeAsync("chat:a", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:a", 3);

        await bad.Completion.WaitAsync(s_timeout);
        Assert.Equal(DisconnectReason.WriteError, bad.CloseReason);
        await healthy.WaitForMessagesAsync(3);
        Assert.Equal(1, hub.GetSubscriberCount("chat:a"));
    }

    [Fact]
    public async Task Sessions_on_many_channels_across_shards_each_see_only_their_channel()
    {
        var hub = new ChannelHub(shardCount: 4);
        var log = new TestChannelLog(hub);
        var transports = new TestTransport[20];
        var sessions = new Session[20];
        for (var i = 0; i < 20; i++)
        {
            sessions[i] = new Session(transports[i] = new TestTransport(), hub);
            await sessions[i].SubscribeAsync($"chat:c{i}", null, log).AsTask().WaitAsync(s_timeout);
        }

        for (var i = 0; i < 20; i++)
            await log.PublishAsync($"chat:c{i}", i + 1);

        for (var i = 0; i < 20; i++)
        {
            await transports[i].WaitForMessagesAsync(i + 1);
            Assert.Equal(Enumerable.Range(1, i + 1).Select(o => (long)o), transports[i].Offsets($"chat:c{i}"));
            await sessions[i].DisposeAsync().AsTask().WaitAsync(s_timeout);
        }

        Assert.Equal(0, hub.ChannelCount);
    }

    private sealed class FailingTransport : ISessionTransport
    {
        public WireFormat Format => WireFormat.Json;

        public ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken) =>
            ValueTask.FromException(new IOException("connection reset"));

        public ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
