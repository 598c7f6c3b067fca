using Herald.Engine;
using Herald.Engine.Memory;

namespace Herald.Specification;

public sealed class InProcessBrokerTests : BrokerSpec
{
    protected override Task<(IChannelLog Log, IBroker Broker)> CreateAsync()
    {
        var broker = new InProcessBroker();
        var log = new MemoryChannelLog(broker);
        Own(log);
        Own(broker);
        return Task.FromResult<(IChannelLog, IBroker)>((log, broker));
    }
}

public sealed class MemoryBackplaneBrokerTests : BrokerSpec
{
    private readonly MemoryBackplane _backplane = new();

    protected override Task<(IChannelLog Log, IBroker Broker)> CreateAsync()
    {
        var broker = _backplane.CreateBroker();
        Own(broker);
        return Task.FromResult<(IChannelLog, IBroker)>((_backplane.Log, broker));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _backplane.DisposeAsync();
    }

    [Fact]
    public async Task Every_node_that_subscribed_the_channel_receives_its_publications_and_the_others_do_not()
    {
        var handlers = new RecordingHandler[3];
        var brokers = new IBroker[3];
        for (var i = 0; i < 3; i++)
        {
            brokers[i] = _backplane.CreateBroker();
            Own(brokers[i]);
            brokers[i].Start(handlers[i] = new RecordingHandler());
        }

        await brokers[0].SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        await brokers[1].SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        for (var i = 1; i <= 50; i++)
            await AppendAsync(_backplane.Log, "chat:a", i);

        await RecordingHandler.WaitUntilAsync(() => handlers[0].Publications.Count >= 50 && handlers[1].Publications.Count >= 50, "50 publications on two nodes", Timeout);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), handlers[0].OffsetsOf("chat:a"));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), handlers[1].OffsetsOf("chat:a"));
        Assert.Empty(handlers[2].Publications);
    }

    [Fact]
    public async Task Faults_lose_repeat_and_reorder_messages_as_told_so_that_the_nodes_repairs_can_be_tested()
    {
        var broker = _backplane.CreateBroker();
        Own(broker);
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        _backplane.DropRate = 0.1;
        _backplane.DuplicateRate = 0.1;
        _backplane.ReorderRate = 0.1;

        for (var i = 1; i <= 1000; i++)
            await AppendAsync(_backplane.Log, "chat:a", i);
        _backplane.DropRate = _backplane.DuplicateRate = _backplane.ReorderRate = 0;
        await AppendAsync(_backplane.Log, "chat:a", 1001);

        await RecordingHandler.WaitUntilAsync(() => handler.OffsetsOf("chat:a").Contains(1001), "the last publication", Timeout);
        var offsets = handler.OffsetsOf("chat:a");
        Assert.True(_backplane.Dropped > 0 && _backplane.Duplicated > 0 && _backplane.Reordered > 0);
        Assert.Equal(1001 - _backplane.Dropped + _backplane.Duplicated, offsets.Count);
        Assert.NotEqual(offsets.Order(), offsets);
    }

    [Fact]
    public async Task A_disconnected_node_misses_what_is_sent_meanwhile_and_hears_of_its_reconnect()
    {
        var broker = _backplane.CreateBroker();
        Own(broker);
        var handler = new RecordingHandler();
        broker.Start(handler);
        await broker.SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);

        MemoryBackplane.Disconnect(broker);
        await AppendAsync(_backplane.Log, "chat:a", 1);
        MemoryBackplane.Reconnect(broker);
        await AppendAsync(_backplane.Log, "chat:a", 2);

        await RecordingHandler.WaitUntilAsync(() => handler.Reconnects == 1 && handler.Publications.Count == 1, "the reconnect and publication 2", Timeout);
        Assert.Equal([2L], handler.OffsetsOf("chat:a"));
    }
}
