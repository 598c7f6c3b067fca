using Herald.Engine;

namespace Herald.Specification;

/// <summary>The countable ordinal <c>n</c>: assigned with the offset, in the same step, by every log.</summary>
public abstract partial class ChannelLogSpec<T>
{
    private static AppendRequest Counted(string channel, string json, bool countable, string? key = null) =>
        Message(channel, json, key: key) with { Countable = countable };

    [Fact]
    public async Task Countable_publications_get_contiguous_ordinals_and_others_carry_the_running_count()
    {
        var log = NewLog();
        var countable = new[] { true, true, false, true, false, false, true };
        var appended = new List<Publication>();
        for (var i = 0; i < countable.Length; i++)
            appended.Add((await Append(log, Counted("chat:n", $"{{\"i\":{i}}}", countable[i]))).Publication);

        Assert.Equal([1L, 2, 2, 3, 3, 3, 4], appended.Select(p => p.N));
        Assert.Equal(countable, appended.Select(p => p.Countable));

        var state = await State(log, "chat:n");
        Assert.Equal(7, state.Top);
        Assert.Equal(4, state.N);

        var read = await Read(log, "chat:n", 0, 100);
        Assert.Equal(appended.Select(p => (p.Offset, p.N, p.Countable)), read.Publications.Select(p => (p.Offset, p.N, p.Countable)));
        Assert.Equal(4, read.State.N);
        var reverse = await Read(log, "chat:n", 0, 100, reverse: true);
        Assert.Equal(appended.Select(p => (p.Offset, p.N, p.Countable)).Reverse(), reverse.Publications.Select(p => (p.Offset, p.N, p.Countable)));

        // The sink (told before each append is acknowledged) sees the same ordinals as the answers.
        Assert.Equal(appended.Select(p => (p.N, p.Countable)), Sink.Published.Where(p => p.Channel == "chat:n").Select(p => (p.N, p.Countable)));
    }

    [Fact]
    public async Task The_ordinal_counts_trimmed_publications_and_restarts_with_a_new_epoch()
    {
        var log = NewLog();
        var small = new Retention(3, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        for (var i = 0; i < 10; i++)
            await Append(log, Message("chat:trim", "{}", small));

        var state = await State(log, "chat:trim");
        Assert.Equal(10, state.N);
        Assert.Equal(8, state.First);
        Assert.Equal([8L, 9, 10], (await Read(log, "chat:trim", 0, 10)).Publications.Select(p => p.N));

        await log.RemoveAsync("chat:trim").AsTask().WaitAsync(Timeout);
        Assert.Equal(0, (await State(log, "chat:trim")).N);
        var first = (await Append(log, Message("chat:trim", "{}"))).Publication;
        Assert.Equal((1L, 1L), (first.Offset, first.N));
    }

    [Fact]
    public async Task A_duplicate_returns_the_original_ordinal_and_moves_nothing()
    {
        var log = NewLog();
        var original = (await Append(log, Counted("chat:dup", "{\"a\":1}", countable: true, key: "k1"))).Publication;
        await Append(log, Counted("chat:dup", "{\"b\":1}", countable: true));
        var again = await Append(log, Counted("chat:dup", "{\"a\":1}", countable: true, key: "k1"));

        Assert.True(again.Duplicate);
        Assert.Equal((original.Offset, original.N, true), (again.Publication.Offset, again.Publication.N, again.Publication.Countable));
        Assert.Equal(2, (await State(log, "chat:dup")).N);
    }

    [Fact]
    public async Task Concurrent_countable_appends_get_each_ordinal_once()
    {
        var log = NewLog();
        const int Count = 200;
        var results = await Task.WhenAll(Enumerable.Range(0, Count).Select(i =>
            Append(log, Counted("chat:race", $"{{\"i\":{i}}}", countable: i % 4 != 0))));

        var counted = results.Select(r => r.Publication).Where(p => p.Countable).Select(p => p.N).Order().ToList();
        Assert.Equal(Enumerable.Range(1, Count - (Count / 4)).Select(i => (long)i), counted);
        // Ordinals rise with offsets: n at an offset is the number of countable publications up to it.
        var byOffset = results.Select(r => r.Publication).OrderBy(p => p.Offset).ToList();
        long running = 0;
        foreach (var publication in byOffset)
        {
            if (publication.Countable)
                running++;
            Assert.Equal(running, publication.N);
        }

        Assert.Equal(running, (await State(log, "chat:race")).N);
    }

    [Fact]
    public async Task Many_states_read_at_once_equal_each_state_read_alone()
    {
        var log = NewLog();
        var small = new Retention(2, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        for (var i = 0; i < 5; i++)
            await Append(log, Message("chat:s1", "{}", small) with { Countable = i != 2 });
        await Append(log, Message("chat:s2", "{}"));
        await log.RemoveAsync("chat:s3").AsTask().WaitAsync(Timeout);

        string[] channels = ["chat:s1", "chat:never", "chat:s2", "chat:s1", "chat:s3"];
        var states = await log.GetStatesAsync(channels).AsTask().WaitAsync(Timeout);
        var alone = new List<StreamState>();
        foreach (var channel in channels)
            alone.Add(await State(log, channel));

        Assert.Equal(alone, states);
        Assert.Equal((5L, 4L, 4L), (states[0].Top, states[0].First, states[0].N));
        Assert.Equal(StreamState.Empty, states[1]);
    }
}
