using System.Net;
using Herald.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.IntegrationTests.Transports.LongPoll;

public sealed class LongPollTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Namespaces:small:HistorySize"] = "10",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Poll_without_a_cursor_starts_from_now_holds_and_answers_the_next_publication()
    {
        using var client = server.CreateClient();
        await client.PublishDataAsync("chat:now", "\"before\"");

        var poll = client.PollAsync("chat:now", wait: 30);
        await server.WaitUntilWaitingAsync(1);
        Assert.False(poll.IsCompleted);
        var offset = await client.PublishDataAsync("chat:now", "\"after\"");

        var answer = await poll;
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("no-store", answer.Response.Headers.CacheControl?.ToString());
        var publication = Assert.Single(answer.Publications);
        Assert.Equal(2, offset);
        Assert.Equal(2, publication.GetProperty("offset").GetInt64());
        Assert.Equal("chat:now", publication.GetProperty("channel").GetString());
        Assert.Equal("after", publication.GetProperty("data").GetString());
        Assert.True(answer.Recovered("chat:now"));
        Assert.Equal(2, answer.Offset("chat:now"));
        Assert.Equal(publication.GetProperty("epoch").GetString(), answer.Epoch("chat:now"));
        Assert.False(answer.More);

        // The next cursor resumes after offset 2: nothing new, so a short poll is empty.
        var next = await client.PollAsync("chat:now", answer.Cursor, wait: 0);
        Assert.Empty(next.Publications);
        Assert.Equal(answer.Cursor, next.Cursor);
    }

    [Fact]
    public async Task Held_poll_with_nothing_new_answers_empty_with_the_same_position_when_wait_expires()
    {
        using var client = server.CreateClient();
        await client.PublishDataAsync("chat:idle", "1");
        var first = await client.PollAsync("chat:idle", wait: 0);
        Assert.Equal(1, first.Offset("chat:idle"));

        var started = DateTime.UtcNow;
        var answer = await client.PollAsync("chat:idle", first.Cursor, wait: 1);
        var elapsed = DateTime.UtcNow - started;
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Empty(answer.Publications);
        Assert.Equal(first.Cursor, answer.Cursor);
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(20));
        await server.WaitUntilHeldAsync(0);
    }

    [Fact]
    public async Task Resume_delivers_exactly_the_missed_publications_in_order_then_live_ones()
    {
        await using var small = await TestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:MaxPollMessages"] = "200",
        });
        using var client = small.CreateClient();
        const string channel = "chat:resume";
        var cursor = (await client.PollAsync(channel, wait: 0)).Cursor;

        // A live poll loop.
        var seen = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var poll = client.PollAsync(channel, cursor, wait: 30);
            await small.WaitUntilWaitingAsync(1);
            await client.PublishDataAsync(channel, $"\"live-{i}\"");
            var answer = await poll;
            seen.AddRange(answer.Publications.Offsets());
            cursor = answer.Cursor;
        }

        Assert.Equal([1L, 2, 3, 4, 5], seen);

        // The client goes away; 500 publications are missed.
        for (var i = 1; i <= 500; i++)
            await client.PublishDataAsync(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var missed = new List<System.Text.Json.JsonElement>();
        var answers = 0;
        while (true)
        {
            var answer = await client.PollAsync(channel, cursor, wait: 25);
            answers++;
            Assert.True(answer.Recovered(channel));
            missed.AddRange(answer.Publications);
            cursor = answer.Cursor;
            if (!answer.More)
                break;
            Assert.Equal(200, answer.Publications.Count);
        }

        Assert.Equal(3, answers);
        Assert.Equal(Enumerable.Range(6, 500).Select(i => (long)i), missed.Offsets());
        Assert.Equal(Enumerable.Range(1, 500), missed.Select(p => p.GetProperty("data").GetInt32()));

        // Then live again, from where it stopped.
        var live = client.PollAsync(channel, cursor, wait: 30);
        await small.WaitUntilWaitingAsync(1);
        await client.PublishDataAsync(channel, "\"again\"");
        var liveAnswer = await live;
        Assert.Equal([506L], liveAnswer.Publications.Offsets());
    }

    [Fact]
    public async Task Stale_epoch_cursor_gets_an_explicit_reset_and_nothing_replayed()
    {
        using var client = server.CreateClient();
        const string channel = "chat:epoch";
        await client.PublishDataAsync(channel, "1");
        var old = await client.PollAsync(channel, wait: 0);
        var oldEpoch = old.Epoch(channel);

        await server.Services.GetRequiredService<IChannelLog>().RemoveAsync(channel);
        await client.PublishDataAsync(channel, "\"new-1\"");
        await client.PublishDataAsync(channel, "\"new-2\"");

        // Even a long poll answers the reset at once.
        var reset = await client.PollAsync(channel, old.Cursor, wait: 30);
        Assert.Equal(HttpStatusCode.OK, reset.Status);
        Assert.False(reset.Recovered(channel));
        Assert.NotEqual(oldEpoch, reset.Epoch(channel));
        Assert.Equal(2, reset.Offset(channel));
        Assert.Empty(reset.Publications);

        var next = client.PollAsync(channel, reset.Cursor, wait: 30);
        await server.WaitUntilWaitingAsync(1);
        await client.PublishDataAsync(channel, "\"new-3\"");
        var answer = await next;
        Assert.True(answer.Recovered(channel));
        Assert.Equal([3L], answer.Publications.Offsets());
        Assert.Equal(reset.Epoch(channel), answer.Publications[0].GetProperty("epoch").GetString());
    }

    [Fact]
    public async Task Cursor_that_fell_out_of_retention_gets_a_reset_and_offset_zero_reads_from_the_beginning()
    {
        using var client = server.CreateClient();
        const string channel = "small:retention";
        await client.PublishDataAsync(channel, "1");
        var behind = await client.PollAsync(channel, wait: 0);
        for (var i = 2; i <= 20; i++)
            await client.PublishDataAsync(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var reset = await client.PollAsync(channel, behind.Cursor, wait: 0);
        Assert.False(reset.Recovered(channel));
        Assert.Equal(20, reset.Offset(channel));
        Assert.Empty(reset.Publications);

        // Offset 0 asks for everything: not recoverable once offset 1 is gone, so again a reset.
        var fromStart = Herald.Channels.Cursor.Encode(channel, new Position(string.Empty, 0));
        Assert.False((await client.PollAsync(channel, fromStart, wait: 0)).Recovered(channel));

        var fresh = await client.PollAsync("small:fresh", Herald.Channels.Cursor.Encode("small:fresh", new Position(string.Empty, 0)), wait: 0);
        Assert.True(fresh.Recovered("small:fresh"));
        await client.PublishDataAsync("small:fresh", "1");
        await client.PublishDataAsync("small:fresh", "2");
        var all = await client.PollAsync("small:fresh", fresh.Cursor, wait: 0);
        Assert.True(all.Recovered("small:fresh"));
        Assert.Equal([1L, 2], all.Publications.Offsets());
    }

    [Fact]
    public async Task Two_channels_in_one_cursor_resume_independently()
    {
        using var client = server.CreateClient();
        string[] channels = ["chat:x", "chat:y"];
        var start = await client.PollAsync(channels, wait: 0);
        Assert.Equal(0, start.Offset("chat:x"));
        Assert.Equal(0, start.Offset("chat:y"));

        for (var i = 1; i <= 3; i++)
            await client.PublishDataAsync("chat:x", $"\"x{i}\"");
        for (var i = 1; i <= 2; i++)
            await client.PublishDataAsync("chat:y", $"\"y{i}\"");

        var both = await client.PollAsync(channels, start.Cursor, wait: 25);
        Assert.Equal(["chat:x", "chat:x", "chat:x", "chat:y", "chat:y"], both.Publications.Select(p => p.GetProperty("channel").GetString()));
        Assert.Equal([1L, 2, 3, 1, 2], both.Publications.Offsets());
        Assert.Equal(3, both.Offset("chat:x"));
        Assert.Equal(2, both.Offset("chat:y"));

        // Only y moves: only y is delivered, and x keeps its position in the cursor.
        await client.PublishDataAsync("chat:y", "\"y3\"");
        var onlyY = await client.PollAsync(channels, both.Cursor, wait: 25);
        Assert.Equal(["y3"], onlyY.Publications.Select(p => p.GetProperty("data").GetString()));
        Assert.Equal(3, onlyY.Offset("chat:x"));
        Assert.Equal(3, onlyY.Offset("chat:y"));

        // A poll held on both is woken by x, and y's position stays.
        var held = client.PollAsync(channels, onlyY.Cursor, wait: 30);
        await server.WaitUntilWaitingAsync(1);
        await client.PublishDataAsync("chat:x", "\"x4\"");
        var x4 = await held;
        Assert.Equal(["x4"], x4.Publications.Select(p => p.GetProperty("data").GetString()));
        Assert.Equal(4, x4.Offset("chat:x"));
        Assert.Equal(3, x4.Offset("chat:y"));

        // y's history is lost: y alone is reset, x still resumes from the old cursor.
        await server.Services.GetRequiredService<IChannelLog>().RemoveAsync("chat:y");
        await client.PublishDataAsync("chat:y", "\"y-new\"");
        var mixed = await client.PollAsync(channels, both.Cursor, wait: 25);
        Assert.True(mixed.Recovered("chat:x"));
        Assert.False(mixed.Recovered("chat:y"));
        Assert.Equal(1, mixed.Offset("chat:y"));
        Assert.Equal([4L], mixed.Publications.Offsets());
        Assert.All(mixed.Publications, p => Assert.Equal("chat:x", p.GetProperty("channel").GetString()));
    }

    [Fact]
    public async Task Short_poll_answers_at_once_and_a_repeated_empty_poll_costs_a_304()
    {
        using var client = server.CreateClient();
        const string channel = "chat:short";
        await client.PublishDataAsync(channel, "1");
        var cursor = (await client.PollAsync(channel, wait: 0)).Cursor;

        var empty = await client.PollAsync(channel, cursor, wait: 0);
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Empty(empty.Publications);
        Assert.Equal(cursor, empty.Cursor);
        var etag = empty.Response.Headers.ETag?.ToString();
        Assert.False(string.IsNullOrEmpty(etag));

        var notModified = await client.PollAsync([channel], cursor, wait: 0, ifNoneMatch: etag);
        Assert.Equal(HttpStatusCode.NotModified, notModified.Status);
        Assert.Equal(etag, notModified.Response.Headers.ETag?.ToString());

        await client.PublishDataAsync(channel, "2");
        var changed = await client.PollAsync([channel], cursor, wait: 0, ifNoneMatch: etag);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Equal([2L], changed.Publications.Offsets());
        Assert.NotEqual(etag, changed.Response.Headers.ETag?.ToString());

        // Another position on the same state is another answer: no 304.
        var other = await client.PollAsync([channel], changed.Cursor, wait: 0, ifNoneMatch: changed.Response.Headers.ETag?.ToString());
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Empty(other.Publications);
        await server.WaitUntilHeldAsync(0);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("61")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("")]
    public async Task Bad_wait_is_refused_with_invalid_query(string wait)
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync(new Uri($"v1/poll?channel=chat:bad&wait={wait}", UriKind.Relative)).WaitAsync(Poll.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_query", (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Bad_channel_and_foreign_cursor_are_refused()
    {
        using var client = server.CreateClient();
        var noChannel = await client.PollAsync([], wait: 0);
        Assert.Equal(HttpStatusCode.BadRequest, noChannel.Status);
        Assert.Equal("invalid_query", noChannel.Code);

        var foreign = await client.PollAsync("chat:b", Herald.Channels.Cursor.Encode("chat:a", new Position("abcdefgh", 1)), wait: 0);
        Assert.Equal(HttpStatusCode.BadRequest, foreign.Status);
        Assert.Equal("invalid_cursor", foreign.Code);
    }
}
