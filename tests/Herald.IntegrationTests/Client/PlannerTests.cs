using Herald.Client;
using Herald.Client.Internal;

namespace Herald.IntegrationTests.Client;

/// <summary>The fallback rules, rule by rule (the TypeScript SDK's planner.test.ts), with time and randomness given.</summary>
public sealed class PlannerTests
{
    private static readonly HeraldTransport[] Order = [HeraldTransport.WebSocket, HeraldTransport.Sse, HeraldTransport.Stream, HeraldTransport.LongPoll];

    private static Planner Create() => new(Order, new Backoff(new BackoffOptions(), () => 1.0), new FallbackOptions());

    [Fact]
    public void A_transport_that_never_opened_is_left_at_once_while_the_server_answers_and_retried_while_it_does_not()
    {
        var planner = Create();
        Assert.Equal(HeraldTransport.WebSocket, planner.OpenFailed(serverReachable: false).Transport);
        Assert.Equal(HeraldTransport.WebSocket, planner.OpenFailed(serverReachable: false).Transport);
        var next = planner.OpenFailed(serverReachable: true);
        Assert.Equal((HeraldTransport.Sse, TimeSpan.Zero), (next.Transport, next.Delay));
    }

    [Fact]
    public void A_transport_that_worked_gets_three_tries_and_three_quick_cuts_before_the_next_one()
    {
        var planner = Create();
        planner.Opened(0);
        Assert.Equal(HeraldTransport.WebSocket, planner.Closed(100).Transport);
        Assert.Equal(HeraldTransport.WebSocket, planner.OpenFailed(true).Transport);
        Assert.Equal(HeraldTransport.WebSocket, planner.OpenFailed(true).Transport);
        Assert.Equal(HeraldTransport.Sse, planner.OpenFailed(true).Transport);

        planner.Opened(1_000);
        Assert.Equal(HeraldTransport.Sse, planner.Closed(1_100).Transport);
        planner.Opened(2_000);
        Assert.Equal(HeraldTransport.Sse, planner.Closed(2_100).Transport);
        planner.Opened(3_000);
        Assert.Equal(HeraldTransport.Stream, planner.Closed(3_100).Transport);
    }

    [Fact]
    public void A_close_the_server_explains_or_a_long_lived_connection_is_no_cut_and_resets_the_backoff()
    {
        var planner = Create();
        for (var i = 0; i < 5; i++)
        {
            planner.Opened(i * 1000);
            Assert.Equal(HeraldTransport.WebSocket, planner.Closed((i * 1000) + 10, explained: true).Transport);
        }

        planner.Opened(100_000);
        var next = planner.Closed(200_000);
        Assert.Equal((HeraldTransport.WebSocket, TimeSpan.FromMilliseconds(500)), (next.Transport, next.Delay));
    }

    [Fact]
    public void After_the_last_transport_a_new_round_starts_from_the_first_after_a_backoff_capped_at_the_maximum()
    {
        var planner = Create();
        Assert.Equal(HeraldTransport.Sse, planner.OpenFailed(true).Transport);
        Assert.Equal(HeraldTransport.Stream, planner.OpenFailed(true).Transport);
        Assert.Equal(HeraldTransport.LongPoll, planner.OpenFailed(true).Transport);
        var round = planner.OpenFailed(true);
        Assert.Equal(HeraldTransport.WebSocket, round.Transport);
        Assert.True(round.Delay > TimeSpan.Zero);
        var backoff = new Backoff(new BackoffOptions(), () => 0.999);
        Assert.Equal(TimeSpan.FromMilliseconds(499), backoff.Delay(0));
        Assert.Equal(TimeSpan.FromMilliseconds(29_970), backoff.Delay(200));
    }

    [Fact]
    public void The_cursor_round_trips_and_refuses_channels_it_was_not_made_for()
    {
        var positions = new Dictionary<string, Position> { ["chat:a"] = new("x3kq9z1a", 300), ["chat:b"] = new(string.Empty, 0) };
        var cursor = HeraldCursor.Encode(positions);
        Assert.Matches("^[A-Za-z0-9_-]+$", cursor);
        Assert.Equal(positions, HeraldCursor.Decode(cursor, ["chat:b", "chat:a", "chat:c"]));
        Assert.Equal("invalid_cursor", Assert.Throws<HeraldException>(() => HeraldCursor.Decode(cursor, ["chat:a"])).Code);
        Assert.Equal("invalid_cursor", Assert.Throws<HeraldException>(() => HeraldCursor.Decode(cursor[..^2], ["chat:a", "chat:b"])).Code);
    }
}
