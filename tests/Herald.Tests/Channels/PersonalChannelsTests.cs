using Herald.Channels;
using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Hub;
using Herald.Transports.Push;

namespace Herald.Tests.Channels;

/// <summary>The auto-subscribed personal channels, their setting's checks, and the parts of the per-user commands that need no server.</summary>
public sealed class PersonalChannelsTests
{
    private static HeraldOptions WithAutoSubscribe(params string[] namespaces)
    {
        var options = new HeraldOptions();
        foreach (var ns in namespaces)
            options.Namespaces[ns] = new ChannelPolicy { AutoSubscribe = true, Kind = ns == "me" ? null : ChannelKind.Personal };
        return options;
    }

    [Fact]
    public void Every_personal_namespace_with_AutoSubscribe_gives_the_users_channel_in_name_order()
    {
        var options = WithAutoSubscribe("me", "inbox");
        Assert.Equal(["inbox:alice", "me:alice"], PersonalChannels.AutoSubscribed(options, "alice"));
        Assert.Empty(PersonalChannels.AutoSubscribed(options, null));
        Assert.Empty(PersonalChannels.AutoSubscribed(new HeraldOptions(), "alice"));
    }

    [Theory]
    [InlineData("alice smith")]
    [InlineData("a+b@example.com")]
    [InlineData("a:b")]
    public void A_user_id_that_cannot_be_a_channel_name_has_no_channel_to_follow(string user) =>
        Assert.Empty(PersonalChannels.AutoSubscribed(WithAutoSubscribe("me"), user));

    [Fact]
    public void AutoSubscribe_is_refused_outside_personal_namespaces()
    {
        var options = new HeraldOptions();
        options.Namespaces["me"] = new ChannelPolicy { AutoSubscribe = true };
        Assert.Empty(options.Validate());

        options.Namespaces["chat"] = new ChannelPolicy { AutoSubscribe = true };
        options.DefaultPolicy.AutoSubscribe = true;
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("Herald:Namespaces:chat:AutoSubscribe applies only to personal namespaces", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Herald:DefaultPolicy:AutoSubscribe", StringComparison.Ordinal));
    }

    [Fact]
    public void A_lenient_cursor_read_skips_channels_it_was_not_asked_about()
    {
        var token = Cursor.Encode([new("chat:a", new Position("e1", 4)), new("me:alice", new Position("e2", 9))]);
        Assert.False(Cursor.TryDecode(token, ["me:alice"], out _, out _));
        Assert.True(Cursor.TryDecode(token, ["me:alice"], out var positions, out var error, ignoreOthers: true), error);
        Assert.Equal(new Position("e2", 9), Assert.Single(positions).Value);
    }

    [Fact]
    public void Removing_a_channel_from_a_push_cursor_keeps_the_others()
    {
        var tracker = new CursorTracker(["a:1", "b:2", "c:3"], new Dictionary<string, Position>());
        tracker.Set("a:1", new Position("e", 1));
        tracker.Set("b:2", new Position("e", 2));
        tracker.Set("c:3", new Position("e", 3));
        tracker.Remove("a:1");
        tracker.Remove("nope:x");
        Assert.Equal(2, tracker.Count);
        Assert.True(Cursor.TryDecode(tracker.ToString(), ["b:2", "c:3"], out var positions, out var error), error);
        Assert.Equal(3, positions["c:3"].Offset);
        tracker.Set("a:1", new Position("e", 5));
        Assert.Equal(3, tracker.Count);
    }

    [Fact]
    public async Task A_command_reaches_the_handler_through_the_broker_and_other_control_events_are_ignored()
    {
        await using var log = new MemoryChannelLog();
        var broker = new InProcessBroker();
        await using var node = new Node(log, broker, new ChannelHub(), new PollWaiters());
        var commands = new UserCommands(broker, node);
        var received = new TaskCompletionSource<UserCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
        commands.Handler = c => received.TrySetResult(c);
        await commands.StartAsync();

        await broker.PublishEventAsync(new ChannelEvent(Node.ControlChannel, "something.newer", "{}"u8.ToArray()));
        await commands.SendAsync(new UserCommand(UserCommandKind.Unsubscribe, "al\"ice", "chat:a"));
        Assert.Equal(new UserCommand(UserCommandKind.Unsubscribe, "al\"ice", "chat:a"), await received.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.True(UserCommands.TryDecode(new ChannelEvent(Node.ControlChannel, "user.disconnect", """{"user":"bob","reconnect":true}"""u8.ToArray()), out var disconnect));
        Assert.Equal(new UserCommand(UserCommandKind.Disconnect, "bob", null, true), disconnect);
        Assert.False(UserCommands.TryDecode(new ChannelEvent(Node.ControlChannel, "user.unsubscribe", """{"user":"bob"}"""u8.ToArray()), out _));
        Assert.False(UserCommands.TryDecode(new ChannelEvent(Node.ControlChannel, "user.disconnect", "not json"u8.ToArray()), out _));
    }
}
