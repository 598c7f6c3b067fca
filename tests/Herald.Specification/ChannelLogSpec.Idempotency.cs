namespace Herald.Specification;

public abstract partial class ChannelLogSpec<T>
{
    [Fact]
    public async Task A_key_reused_for_another_request_is_reported_as_such_and_a_true_retry_is_not()
    {
        var log = NewLog();
        var original = await Append(log, Message("chat:a", "{\"text\":\"hi\"}", key: "k", from: "alice", type: "message"));

        var retry = await Append(log, Message("chat:a", "{\"text\":\"hi\"}", key: "k", from: "alice", type: "message"));
        var otherData = await Append(log, Message("chat:a", "{\"text\":\"bye\"}", key: "k", from: "alice", type: "message"));
        var otherType = await Append(log, Message("chat:a", "{\"text\":\"hi\"}", key: "k", from: "alice", type: "edit"));
        var otherPublisher = await Append(log, Message("chat:a", "{\"text\":\"hi\"}", key: "k", from: "bob", type: "message"));

        Assert.True(retry.Duplicate);
        Assert.False(retry.KeyReused);
        Assert.All([otherData, otherType, otherPublisher], r =>
        {
            Assert.True(r.Duplicate);
            Assert.True(r.KeyReused);
            Assert.Equal(original.Publication.Id, r.Publication.Id);
        });
        Assert.Equal(1, (await State(log, "chat:a")).Top);
        Assert.Equal([1L], Sink.OffsetsOf("chat:a"));
    }

    [Fact]
    public async Task A_key_reused_within_one_batch_of_concurrent_appends_is_reported_for_every_other_request()
    {
        var log = NewLog();

        var results = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(i => Task.Run(() => Append(log, Message("chat:a", $"{i % 2}", key: "same")))));

        var appended = Assert.Single(results, r => !r.Duplicate);
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Duplicate)
                Assert.Equal($"{i % 2}" != Text(appended.Publication), results[i].KeyReused);
        }

        Assert.Equal(1, (await State(log, "chat:a")).Top);
    }
}
