using Herald.Engine;
using Herald.Hub;

namespace Herald.Tests.Hub;

/// <summary>
/// The last line against a silent gap: a subscription that is handed a publication of another
/// epoch from its middle — whatever race upstream got it there — closes its session with 3010, so
/// the client resumes from its position and is told it was reset. A new epoch from its first
/// offset is a clean new generation and is delivered.
/// </summary>
public sealed class EpochSkipTests
{
    private const string Channel = "chat:lobby";
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task A_publication_of_another_epoch_past_its_first_offset_closes_the_session_with_insufficient_state_and_is_not_sent()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 3);
        var state = await log.GetStateAsync(Channel);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        await session.SubscribeAsync(Channel, new Position(state.Epoch, 3), log).AsTask().WaitAsync(s_timeout);

        hub.OnPublished(Publication("other-epoch", 28));

        Assert.Equal(DisconnectReason.InsufficientState, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.Empty(transport.Offsets(Channel));
        Assert.False(session.IsSubscribed(Channel));
    }

    [Fact]
    public async Task A_straggler_of_an_older_epoch_after_a_reset_reply_closes_the_session_too()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 5);
        var state = await log.GetStateAsync(Channel);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        // A position of a lost epoch: not recovered, live after the current top.
        var result = await session.SubscribeAsync(Channel, new Position("lost-epoch", 9), log).AsTask().WaitAsync(s_timeout);
        Assert.False(result.Recovered);

        hub.OnPublished(Publication("lost-epoch", 10));

        Assert.Equal(DisconnectReason.InsufficientState, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.Empty(transport.Offsets(Channel));
    }

    [Fact]
    public async Task A_new_epoch_from_its_first_offset_is_delivered_and_followed()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, 3);
        var state = await log.GetStateAsync(Channel);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        await session.SubscribeAsync(Channel, new Position(state.Epoch, 3), log).AsTask().WaitAsync(s_timeout);

        hub.OnPublished(Publication("next-epoch", 1));
        hub.OnPublished(Publication("next-epoch", 2));

        await transport.WaitForMessagesAsync(2);
        Assert.Equal([1L, 2L], transport.Offsets(Channel));
        Assert.False(transport.Closed.Task.IsCompleted);
        Assert.True(session.IsSubscribed(Channel));
    }

    private static Publication Publication(string epoch, long offset) => new()
    {
        Channel = Channel,
        Epoch = epoch,
        Offset = offset,
        Id = $"{epoch}-{offset}",
        Time = DateTimeOffset.UnixEpoch,
        Data = "{}"u8.ToArray(),
    };
}
