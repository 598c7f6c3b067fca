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
        var (hub, transport, session, _) = await SubscribedAtTopAsync(published: 3);
        await using var owned = session;

        hub.OnPublished(Publication("other-epoch", 28));

        Assert.Equal(DisconnectReason.InsufficientState, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.Empty(transport.Offsets(Channel));
        Assert.False(session.IsSubscribed(Channel));
    }

    [Fact]
    public async Task A_straggler_of_an_older_epoch_after_a_reset_reply_closes_the_session_too()
    {
        // A position of a lost epoch: not recovered, live after the current top.
        var (hub, transport, session, result) = await SubscribedAtTopAsync(published: 5, since: new Position("lost-epoch", 9));
        await using var owned = session;
        Assert.False(result.Recovered);

        hub.OnPublished(Publication("lost-epoch", 10));

        Assert.Equal(DisconnectReason.InsufficientState, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.Empty(transport.Offsets(Channel));
    }

    [Fact]
    public async Task A_new_epoch_from_its_first_offset_is_delivered_and_followed()
    {
        var (hub, transport, session, _) = await SubscribedAtTopAsync(published: 3);
        await using var owned = session;

        hub.OnPublished(Publication("next-epoch", 1));
        hub.OnPublished(Publication("next-epoch", 2));

        await transport.WaitForMessagesAsync(2);
        Assert.Equal([1L, 2L], transport.Offsets(Channel));
        Assert.False(transport.Closed.Task.IsCompleted);
        Assert.True(session.IsSubscribed(Channel));
    }

    /// <summary>A session subscribed to a channel holding <paramref name="published"/> publications, from <paramref name="since"/> (default: its top).</summary>
    private static async Task<(ChannelHub Hub, TestTransport Transport, Session Session, SubscribeResult Result)> SubscribedAtTopAsync(int published, Position? since = null)
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        await log.PublishAsync(Channel, published);
        var state = await log.GetStateAsync(Channel);
        var transport = new TestTransport();
        var session = new Session(transport, hub);
        var result = await session.SubscribeAsync(Channel, since ?? new Position(state.Epoch, state.Top), log).AsTask().WaitAsync(s_timeout);
        return (hub, transport, session, result);
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
