using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Publishing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Tests.Publishing;

public sealed class ThreadSummariesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly ManualClock clock = new();
    private readonly Channel<PublishRequest> sent = Channel.CreateUnbounded<PublishRequest>();

    private ThreadSummaries Create() => new(
        (request, _) =>
        {
            sent.Writer.TryWrite(request);
            return ValueTask.FromResult(new PublishResult(null, false, PublishError.None, string.Empty));
        },
        clock,
        NullLogger.Instance);

    private static Publication Reply(long offset, string? type = null) => new()
    {
        Channel = "chat:lobby=57",
        Offset = offset,
        Epoch = "e1",
        Id = offset.ToString("x32", System.Globalization.CultureInfo.InvariantCulture),
        Time = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(offset),
        From = "bob",
        Type = type,
        Data = "{}"u8.ToArray(),
        N = offset,
        Countable = true,
    };

    private async Task<JsonElement> NextAsync()
    {
        var request = await sent.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("chat:lobby", request.Channel);
        Assert.Equal(ActionTypes.Thread, request.Type);
        Assert.Equal(CallerKind.Server, request.Caller.Kind);
        return JsonDocument.Parse(Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(request.Data))).RootElement.Clone();
    }

    [Fact]
    public async Task The_first_reply_is_summarised_at_once_then_at_most_once_per_interval_with_the_newest_state()
    {
        await using var summaries = Create();
        var policy = new ChannelPolicy();

        summaries.OnPublished(Reply(1), policy);
        var first = await NextAsync();
        Assert.Equal(57, first.GetProperty("ref").GetInt64());
        Assert.Equal(1, first.GetProperty("replies").GetInt64());
        Assert.Equal("bob", first.GetProperty("last").GetProperty("from").GetString());

        await clock.WaitForPendingAsync(1);
        summaries.OnPublished(Reply(2), policy);
        summaries.OnPublished(Reply(3), policy);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(sent.Reader.TryRead(out _), "a summary within the interval");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var trailing = await NextAsync();
        Assert.Equal(3, trailing.GetProperty("replies").GetInt64());
        Assert.Equal(3, trailing.GetProperty("last").GetProperty("offset").GetInt64());

        // A quiet interval ends the thread's loop; the next reply is summarised at once again.
        await clock.WaitForPendingAsync(1);
        clock.Advance(TimeSpan.FromSeconds(1));
        using (var wait = new CancellationTokenSource(Timeout))
        {
            while (summaries.Active > 0)
                await Task.Delay(5, wait.Token);
        }

        Assert.False(sent.Reader.TryRead(out _));
        summaries.OnPublished(Reply(4), policy);
        Assert.Equal(4, (await NextAsync()).GetProperty("replies").GetInt64());
    }

    [Fact]
    public async Task Actions_and_non_thread_channels_make_no_summary_nor_does_a_namespace_without_threads()
    {
        await using var summaries = Create();
        summaries.OnPublished(Reply(1, ActionTypes.React), new ChannelPolicy());
        summaries.OnPublished(Reply(2, "note"), new ChannelPolicy { UnreadTypes = ["message"] });
        summaries.OnPublished(Reply(3), new ChannelPolicy { Threads = false });
        var parent = Reply(4);
        summaries.OnPublished(new Publication { Channel = "chat:lobby", Offset = 4, Epoch = "e1", Id = parent.Id, Time = parent.Time, Data = parent.Data }, new ChannelPolicy());
        Assert.Equal(0, summaries.Active);
        Assert.False(sent.Reader.TryRead(out _));
    }

    [Fact]
    public async Task An_interval_of_zero_summarises_every_reply()
    {
        await using var summaries = Create();
        var policy = new ChannelPolicy { ThreadSummaryInterval = TimeSpan.Zero };
        for (var offset = 1; offset <= 3; offset++)
        {
            summaries.OnPublished(Reply(offset), policy);
            Assert.Equal(offset, (await NextAsync()).GetProperty("replies").GetInt64());
        }
    }

    [Fact]
    public async Task Shutdown_publishes_what_is_pending_once()
    {
        var summaries = Create();
        var policy = new ChannelPolicy();
        summaries.OnPublished(Reply(1), policy);
        await NextAsync();
        await clock.WaitForPendingAsync(1);
        summaries.OnPublished(Reply(2), policy);

        await summaries.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(2, (await NextAsync()).GetProperty("replies").GetInt64());
        Assert.False(sent.Reader.TryRead(out _));
        Assert.Equal(0, summaries.Active);
    }
}
