using Herald.Engine;
using Herald.Redis;

namespace Herald.Specification;

public sealed class RedisBrokerTests(RedisFixture redis) : BrokerSpec, IClassFixture<RedisFixture>
{
    private readonly RedisEngineOptions _options = RedisFixture.NewOptions();

    protected override Task<(IChannelLog Log, IBroker Broker)> CreateAsync()
    {
        var log = new RedisChannelLog(redis.Connection, _options);
        var broker = new RedisBroker(redis.Connection, _options);
        Own(log);
        Own(broker);
        return Task.FromResult<(IChannelLog, IBroker)>((log, broker));
    }

    [Fact]
    public async Task A_publication_reaches_every_node_that_subscribed_and_an_unsubscribed_node_stops_hearing()
    {
        var log = new RedisChannelLog(redis.Connection, _options);
        Own(log);
        var handlers = new RecordingHandler[2];
        var brokers = new RedisBroker[2];
        for (var i = 0; i < 2; i++)
        {
            var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
            Own(connection);
            brokers[i] = new RedisBroker(connection, _options);
            Own(brokers[i]);
            brokers[i].Start(handlers[i] = new RecordingHandler());
            await brokers[i].SubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        }

        await AppendAsync(log, "chat:a", 1);
        await RecordingHandler.WaitUntilAsync(() => handlers.All(h => h.Publications.Count == 1), "both nodes", Timeout);
        await brokers[1].UnsubscribeAsync("chat:a").AsTask().WaitAsync(Timeout);
        await AppendAsync(log, "chat:a", 2);
        await RecordingHandler.WaitUntilAsync(() => handlers[0].Publications.Count == 2, "the subscribed node", Timeout);
        await Task.Delay(200);

        Assert.Equal([1L, 2], handlers[0].OffsetsOf("chat:a"));
        Assert.Equal([1L], handlers[1].OffsetsOf("chat:a"));
        Assert.Equal(0, brokers[1].SubscriptionCount);
    }
}
