using Herald.Engine;
using Herald.Redis;
using StackExchange.Redis;

namespace Herald.Specification;

public sealed class RedisChannelLogTests(RedisFixture redis) : ChannelLogSpec<RedisChannelLog>, IClassFixture<RedisFixture>
{
    private readonly RedisEngineOptions _options = RedisFixture.NewOptions();

    protected override RedisChannelLog CreateLog(IPublicationSink sink, TimeProvider time) =>
        new(redis.Connection, _options, sink, time);

    [Fact]
    public async Task Two_logs_on_one_redis_racing_appends_to_one_channel_get_contiguous_offsets_each_payload_once()
    {
        await using var second = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var a = NewLog();
        var b = new RedisChannelLog(second, _options, null, Time);

        var tasks = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            var log = p % 2 == 0 ? (IChannelLog)a : b;
            for (var i = 0; i < 250; i++)
                await Append(log, Message("chat:race", $"\"{p}-{i}\""));
        }));
        await Task.WhenAll(tasks).WaitAsync(Timeout);

        var all = new List<Publication>();
        for (long after = 0; ;)
        {
            var page = await Read(b, "chat:race", after, 1000);
            if (page.Publications.Count == 0)
                break;
            all.AddRange(page.Publications);
            after = page.Publications[^1].Offset;
        }

        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), all.Select(p => p.Offset));
        Assert.Equal(2000, all.Select(Text).Distinct().Count());
    }

    [Fact]
    public async Task Two_logs_racing_one_idempotency_key_append_once_and_both_answer_the_original()
    {
        await using var second = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var a = NewLog();
        var b = new RedisChannelLog(second, _options, null, Time);

        var results = await Task.WhenAll(Enumerable.Range(0, 16)
            .Select(i => Task.Run(() => Append(i % 2 == 0 ? a : b, Message("chat:key", "\"same\"", key: "k")))));

        var appended = Assert.Single(results, r => !r.Duplicate);
        Assert.All(results, r => Assert.Equal(appended.Publication.Id, r.Publication.Id));
        Assert.All(results, r => Assert.False(r.KeyReused));
        Assert.Equal(1, (await State(a, "chat:key")).Top);
    }

    [Fact]
    public async Task A_batch_of_appends_to_one_partition_is_one_script_call_and_keeps_call_order()
    {
        var log = NewLog();
        var pending = Enumerable.Range(1, 300).Select(i => log.AppendAsync(Message("chat:batch", $"{i}")).AsTask()).ToList();
        var results = await Task.WhenAll(pending).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), results.Select(r => r.Publication.Offset));
        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"{i}"), results.Select(r => Text(r.Publication)));
    }

    [Fact]
    public async Task Concurrent_reads_and_appends_answered_in_any_order_never_look_like_redis_going_back_in_time()
    {
        var log = NewLog();
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
                await Append(log, Message("chat:busy", "1"));
        }));
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
                await State(log, "chat:busy");
        }));

        await Task.WhenAll([.. writers, .. readers]).WaitAsync(Timeout);

        Assert.Equal(0, log.EraRotations);
        Assert.Equal(800, (await State(log, "chat:busy")).Top);
    }
    [Fact]
    public async Task An_append_redis_refuses_fails_with_the_rest_of_its_call_and_leaves_the_channel_as_it_was()
    {
        var log = NewLog();
        for (var i = 1; i <= 3; i++)
            await Append(log, Message("chat:broken", $"{i}"));

        // A channel whose meta says offset 1 while its stream holds 3: the next entry id (2-0) is not
        // above the stream's last, and XADD refuses it.
        var keys = new RedisKeys(_options.Prefix, _options.Partitions);
        var partition = keys.PartitionOf("chat:broken");
        var db = redis.Connection.GetDatabase();
        await db.HashSetAsync(keys.Meta(partition, "chat:broken"), "s", 1);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => log.AppendAsync(Message("chat:broken", "4")).AsTask().WaitAsync(Timeout));
        Assert.Contains("could not append", failed.Message, StringComparison.Ordinal);
        Assert.Equal("1", (string?)await db.HashGetAsync(keys.Meta(partition, "chat:broken"), "s"));
        Assert.Equal(3, await db.StreamLengthAsync(keys.Stream(partition, "chat:broken")));

        // Other channels of the partition, and of the others, are untouched.
        Assert.Equal(1, (await Append(log, Message("chat:fine", "1"))).Publication.Offset);
    }
}
