using System.Text;
using System.Text.RegularExpressions;
using Herald.Engine;

namespace Herald.Specification;

/// <summary>
/// What every <see cref="IChannelLog"/> must do, run once per backend by a subclass. Time is a
/// <see cref="ManualTimeProvider"/>; nothing here depends on how fast the machine is.
/// </summary>
public abstract partial class ChannelLogSpec<T> : IAsyncLifetime
    where T : IChannelLog
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    protected static readonly Retention Roomy = new(100_000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));

    private readonly List<T> created = [];

    protected ManualTimeProvider Time { get; } = new();

    protected RecordingSink Sink { get; } = new();

    /// <summary>A new log over this test's storage, publishing to <paramref name="sink"/>.</summary>
    protected abstract T CreateLog(IPublicationSink sink, TimeProvider time);

    /// <summary>Deletes this test's storage; called after every log the test created is disposed.</summary>
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    /// <summary>A log disposed when the test ends (disposing it earlier is fine).</summary>
    protected T NewLog()
    {
        var log = CreateLog(Sink, Time);
        created.Add(log);
        return log;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var log in created)
            await log.DisposeAsync().AsTask().WaitAsync(Timeout);

        await CleanupAsync().WaitAsync(Timeout);
    }

    protected static AppendRequest Message(string channel, string json, Retention? retention = null, string? key = null, string? from = null, string? type = null) =>
        new(channel, Encoding.UTF8.GetBytes(json), retention ?? Roomy, from, type, key);

    protected static string Text(Publication publication) => Encoding.UTF8.GetString(publication.Data.Span);

    protected static async Task<AppendResult> Append(IChannelLog log, AppendRequest request) =>
        await log.AppendAsync(request).AsTask().WaitAsync(Timeout);

    protected static async Task<ReadResult> Read(IChannelLog log, string channel, long after, int limit, bool reverse = false) =>
        await log.ReadAsync(channel, new ReadRequest(after, limit, reverse)).AsTask().WaitAsync(Timeout);

    protected static async Task<StreamState> State(IChannelLog log, string channel) =>
        await log.GetStateAsync(channel).AsTask().WaitAsync(Timeout);

    protected static async Task AppendMany(IChannelLog log, string channel, int count, Retention? retention = null)
    {
        for (var i = 1; i <= count; i++)
            await Append(log, Message(channel, $"{{\"n\":{i}}}", retention));
    }

    [Fact]
    public async Task Appends_get_contiguous_offsets_from_one_in_call_order()
    {
        var log = NewLog();

        var first = await Append(log, Message("chat:a", "1"));
        var second = await Append(log, Message("chat:a", "2"));
        var third = await Append(log, Message("chat:a", "3"));

        Assert.Equal([1L, 2L, 3L], [first.Publication.Offset, second.Publication.Offset, third.Publication.Offset]);
        Assert.False(first.Duplicate);
        Assert.All([first, second, third], r => Assert.Equal(first.Publication.Epoch, r.Publication.Epoch));
        var read = await Read(log, "chat:a", 0, 10);
        Assert.Equal(["1", "2", "3"], read.Publications.Select(Text));
        Assert.Equal(new StreamState(first.Publication.Epoch, 3, 1, 3), read.State);
    }

    [Fact]
    public async Task An_appended_publication_reads_back_exactly_as_the_append_returned_it()
    {
        var log = NewLog();

        var appended = (await Append(log, Message("chat:a", "{\"text\":\"héllo\"}", from: "alice", type: "msg"))).Publication;
        var read = Assert.Single((await Read(log, "chat:a", 0, 10)).Publications);

        Assert.Equal("chat:a", read.Channel);
        Assert.Equal(appended.Position, read.Position);
        Assert.Equal(appended.Id, read.Id);
        Assert.Matches("^[0-9a-f]{32}$", read.Id);
        Assert.Equal(7, Guid.ParseExact(read.Id, "N").Version);
        Assert.Equal(Time.GetUtcNow().ToUnixTimeMilliseconds(), Convert.ToInt64(read.Id[..12], 16));
        Assert.Equal(appended.Time, read.Time);
        Assert.Equal(Time.GetUtcNow().ToUnixTimeMilliseconds(), read.Time.ToUnixTimeMilliseconds());
        Assert.Equal("alice", read.From);
        Assert.Equal("msg", read.Type);
        Assert.Equal("{\"text\":\"héllo\"}", Text(read));
    }

    [Fact]
    public async Task Channels_have_independent_offsets_and_epochs()
    {
        var log = NewLog();

        await AppendMany(log, "chat:a", 3);
        var b = await Append(log, Message("chat:b", "1"));

        Assert.Equal(1, b.Publication.Offset);
        Assert.Equal(3, (await State(log, "chat:a")).Top);
        Assert.Equal(1, (await State(log, "chat:b")).Top);
    }

    [Fact]
    public async Task Concurrent_publishers_to_one_channel_get_contiguous_offsets_with_each_payload_once()
    {
        const int publishers = 8;
        const int perPublisher = 500;
        var log = NewLog();

        var tasks = Enumerable.Range(0, publishers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < perPublisher; i++)
                await Append(log, Message("chat:busy", $"\"{p}-{i}\""));
        }));
        await Task.WhenAll(tasks).WaitAsync(Timeout);

        var all = new List<Publication>();
        long after = 0;
        while (true)
        {
            var page = await Read(log, "chat:busy", after, 1000);
            if (page.Publications.Count == 0)
                break;

            all.AddRange(page.Publications);
            after = page.Publications[^1].Offset;
        }

        Assert.Equal(Enumerable.Range(1, publishers * perPublisher).Select(i => (long)i), all.Select(p => p.Offset));
        Assert.Equal(publishers * perPublisher, all.Select(Text).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, publishers * perPublisher).Select(i => (long)i), Sink.OffsetsOf("chat:busy"));
    }

    [Fact]
    public async Task Sink_sees_every_publication_once_in_offset_order_per_channel()
    {
        var log = NewLog();
        string[] channels = ["chat:x", "chat:y", "chat:z"];

        var tasks = Enumerable.Range(0, 9).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
                await Append(log, Message(channels[(p + i) % channels.Length], $"{i}"));
        }));
        await Task.WhenAll(tasks).WaitAsync(Timeout);

        foreach (var channel in channels)
            Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), Sink.OffsetsOf(channel));
        Assert.Equal(900, Sink.Published.Count);
    }

    [Fact]
    public async Task Read_after_an_offset_returns_the_next_publications_up_to_the_limit()
    {
        var log = NewLog();
        await AppendMany(log, "chat:a", 10);

        var page = await Read(log, "chat:a", 4, 3);

        Assert.Equal([5L, 6L, 7L], page.Publications.Select(p => p.Offset));
        Assert.Equal(10, page.State.Top);
        Assert.Equal(1, page.State.First);
    }

    [Fact]
    public async Task Reverse_read_returns_newest_first_before_the_offset()
    {
        var log = NewLog();
        await AppendMany(log, "chat:a", 10);

        var newest = await Read(log, "chat:a", 0, 3, reverse: true);
        var before = await Read(log, "chat:a", 4, 10, reverse: true);

        Assert.Equal([10L, 9L, 8L], newest.Publications.Select(p => p.Offset));
        Assert.Equal([3L, 2L, 1L], before.Publications.Select(p => p.Offset));
    }

    [Fact]
    public async Task Read_after_the_top_returns_nothing_but_the_state()
    {
        var log = NewLog();
        var last = (await Append(log, Message("chat:a", "1"))).Publication;

        var atTop = await Read(log, "chat:a", 1, 10);
        var beyond = await Read(log, "chat:a", 50, 10);

        Assert.Empty(atTop.Publications);
        Assert.Empty(beyond.Publications);
        Assert.Equal(new StreamState(last.Epoch, 1, 1, 1), beyond.State);
    }

    [Fact]
    public async Task History_size_keeps_the_newest_publications_and_moves_first_up()
    {
        var log = NewLog();
        var small = Roomy with { HistorySize = 5 };

        await AppendMany(log, "chat:a", 12, small);

        var state = await State(log, "chat:a");
        var all = await Read(log, "chat:a", 0, 100);
        var reversed = await Read(log, "chat:a", 0, 100, reverse: true);
        Assert.Equal(12, state.Top);
        Assert.Equal(8, state.First);
        Assert.Equal([8L, 9L, 10L, 11L, 12L], all.Publications.Select(p => p.Offset));
        Assert.Equal([12L, 11L, 10L, 9L, 8L], reversed.Publications.Select(p => p.Offset));
    }

    [Fact]
    public async Task Reads_never_return_publications_beyond_the_history_size()
    {
        var log = NewLog();
        var hundred = Roomy with { HistorySize = 100 };

        await AppendMany(log, "chat:a", 150, hundred);

        var state = await State(log, "chat:a");
        var forward = await Read(log, "chat:a", 10, 1000);
        var reverse = await Read(log, "chat:a", 0, 1000, reverse: true);
        var olderThanFirst = await Read(log, "chat:a", 51, 1000, reverse: true);
        Assert.Equal(new StreamState(state.Epoch, 150, 51, 150), state);
        Assert.Equal(Enumerable.Range(51, 100).Select(i => (long)i), forward.Publications.Select(p => p.Offset));
        Assert.Equal(Enumerable.Range(51, 100).Reverse().Select(i => (long)i), reverse.Publications.Select(p => p.Offset));
        Assert.Empty(olderThanFirst.Publications);
    }

    [Fact]
    public async Task A_cancelled_append_is_not_appended()
    {
        var log = NewLog();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => log.AppendAsync(Message("chat:a", "1"), cancelled.Token).AsTask().WaitAsync(Timeout));

        Assert.Equal(StreamState.Empty, await State(log, "chat:a"));
    }

    [Fact]
    public async Task Publications_older_than_the_ttl_are_not_returned_and_offsets_continue()
    {
        var log = NewLog();
        var shortLived = Roomy with { HistoryTtl = TimeSpan.FromMinutes(1) };
        await AppendMany(log, "chat:a", 3, shortLived);
        Time.Advance(TimeSpan.FromSeconds(40));
        await Append(log, Message("chat:a", "4", shortLived));
        Time.Advance(TimeSpan.FromSeconds(30));

        var live = await Read(log, "chat:a", 0, 10);

        Assert.Equal([4L], live.Publications.Select(p => p.Offset));
        Assert.Equal(4, live.State.First);

        Time.Advance(TimeSpan.FromMinutes(1));
        var expired = await State(log, "chat:a");
        Assert.Equal(4, expired.Top);
        Assert.Equal(5, expired.First);
        Assert.Empty((await Read(log, "chat:a", 0, 10)).Publications);
        Assert.Empty((await Read(log, "chat:a", 0, 10, reverse: true)).Publications);

        var next = await Append(log, Message("chat:a", "5", shortLived));
        Assert.Equal(5, next.Publication.Offset);
        Assert.Equal(expired.Epoch, next.Publication.Epoch);
    }

    [Fact]
    public async Task Meta_is_stored_with_the_publication_and_read_back_unchanged()
    {
        var log = NewLog();
        var meta = Encoding.UTF8.GetBytes("{\"source\":\"github\",\"deliveryId\":\"d-1\"}");
        var appended = await Append(log, Message("chat:a", "1", key: "k") with { Meta = meta });
        await Append(log, Message("chat:a", "2"));

        Assert.Equal(meta, appended.Publication.Meta.ToArray());
        var read = (await Read(log, "chat:a", 0, 10)).Publications;
        Assert.Equal(meta, read[0].Meta.ToArray());
        Assert.True(read[1].Meta.IsEmpty);
        Assert.Equal(meta, (await Append(log, Message("chat:a", "3", key: "k"))).Publication.Meta.ToArray());
        Assert.Equal(meta, Sink.Published[0].Meta.ToArray());
    }

    [Fact]
    public async Task A_repeated_idempotency_key_returns_the_original_publication_and_appends_nothing()
    {
        var log = NewLog();
        var original = await Append(log, Message("chat:a", "\"first\"", key: "k1"));
        await Append(log, Message("chat:a", "\"other\""));

        var repeat = await Append(log, Message("chat:a", "\"second\"", key: "k1"));

        Assert.False(original.Duplicate);
        Assert.True(repeat.Duplicate);
        Assert.Equal(original.Publication.Position, repeat.Publication.Position);
        Assert.Equal(original.Publication.Id, repeat.Publication.Id);
        Assert.Equal("\"first\"", Text(repeat.Publication));
        Assert.Equal(2, (await State(log, "chat:a")).Top);
        Assert.Equal([1L, 2L], Sink.OffsetsOf("chat:a"));
    }

    [Fact]
    public async Task Concurrent_appends_with_one_idempotency_key_append_once()
    {
        var log = NewLog();

        var results = await Task.WhenAll(Enumerable.Range(0, 16)
            .Select(i => Task.Run(() => Append(log, Message("chat:a", $"{i}", key: "same")))));

        Assert.Single(results, r => !r.Duplicate);
        Assert.All(results, r => Assert.Equal(1, r.Publication.Offset));
        Assert.Equal(1, (await State(log, "chat:a")).Top);
        Assert.Single(Sink.Published);
    }

    [Fact]
    public async Task An_idempotency_key_is_forgotten_after_the_window()
    {
        var log = NewLog();
        var window = Roomy with { IdempotencyWindow = TimeSpan.FromMinutes(2) };
        await Append(log, Message("chat:a", "1", window, key: "k"));
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await Append(log, Message("chat:a", "1", window, key: "k"))).Duplicate);

        Time.Advance(TimeSpan.FromMinutes(1));
        var again = await Append(log, Message("chat:a", "1", window, key: "k"));

        Assert.False(again.Duplicate);
        Assert.Equal(2, again.Publication.Offset);
    }

    [Fact]
    public async Task The_same_idempotency_key_on_another_channel_is_not_a_duplicate()
    {
        var log = NewLog();
        await Append(log, Message("chat:a", "1", key: "k"));

        var other = await Append(log, Message("chat:b", "1", key: "k"));

        Assert.False(other.Duplicate);
        Assert.Equal(1, other.Publication.Offset);
    }

    [Fact]
    public async Task Remove_forgets_history_and_the_next_append_starts_a_new_epoch_at_offset_one()
    {
        var log = NewLog();
        await AppendMany(log, "chat:a", 3);
        var before = await State(log, "chat:a");
        await Append(log, Message("chat:a", "4", key: "k"));

        await log.RemoveAsync("chat:a").AsTask().WaitAsync(Timeout);

        Assert.Equal(StreamState.Empty, await State(log, "chat:a"));
        Assert.Empty((await Read(log, "chat:a", 0, 10)).Publications);
        var next = await Append(log, Message("chat:a", "again", key: "k"));
        Assert.False(next.Duplicate);
        Assert.Equal(1, next.Publication.Offset);
        Assert.NotEqual(before.Epoch, next.Publication.Epoch);
        Assert.Equal(new StreamState(next.Publication.Epoch, 1, 1, 1), await State(log, "chat:a"));
    }

    [Fact]
    public async Task A_channel_never_written_has_the_empty_state()
    {
        var log = NewLog();

        var read = await Read(log, "chat:nobody", 0, 10);

        Assert.Equal(StreamState.Empty, await State(log, "chat:nobody"));
        Assert.Empty(read.Publications);
        Assert.Equal(StreamState.Empty, read.State);
        await log.RemoveAsync("chat:nobody").AsTask().WaitAsync(Timeout);
        Assert.Equal(StreamState.Empty, await State(log, "chat:nobody"));
    }

    [Fact]
    public async Task The_epoch_is_short_and_url_safe()
    {
        var log = NewLog();

        var epoch = (await Append(log, Message("chat:a", "1"))).Publication.Epoch;

        Assert.InRange(epoch.Length, 4, 16);
        Assert.Matches(UrlSafe(), epoch);
    }

    [Fact]
    public async Task Ping_answers_while_the_log_is_open()
    {
        var log = NewLog();

        Assert.True(await log.PingAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Append_after_dispose_throws_object_disposed()
    {
        var log = NewLog();
        await log.DisposeAsync().AsTask().WaitAsync(Timeout);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Append(log, Message("chat:a", "1")));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex UrlSafe();
}
