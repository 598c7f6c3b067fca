using Herald.Auth;
using Herald.Channels;

namespace Herald.Tests.Channels;

public sealed class ThreadChannelTests
{
    [Theory]
    [InlineData("chat:lobby=57", "chat:lobby", 57)]
    [InlineData("chat:lobby=1", "chat:lobby", 1)]
    [InlineData("dm:alice~bob=5", "dm:alice~bob", 5)]
    [InlineData("chat:a=b=3", "chat:a=b", 3)]
    [InlineData("chat:lobby=57=2", "chat:lobby=57", 2)]
    [InlineData("chat:x=999999999999999999", "chat:x", 999_999_999_999_999_999)]
    public void A_name_ending_in_an_offset_is_the_thread_of_that_offset_of_its_parent(string channel, string parent, long root)
    {
        Assert.True(ThreadChannel.TryParse(channel, out var actualParent, out var actualRoot));
        Assert.Equal(parent, actualParent);
        Assert.Equal(root, actualRoot);
        Assert.Equal(channel, ThreadChannel.Name(parent, root));
    }

    [Theory]
    [InlineData("chat:lobby")]
    [InlineData("chat:lobby=")]
    [InlineData("chat:lobby=0")]                    // No offset 0.
    [InlineData("chat:lobby=057")]                  // One spelling per thread.
    [InlineData("chat:lobby=5a")]
    [InlineData("chat:=5")]                         // The parent would have no name.
    [InlineData("dm:=abcdefghijklmnopqrstuvwxyzABCDEFGHIJK0123")] // A hashed direct channel.
    [InlineData("chat:x=1000000000000000000")]      // 19 digits: no offset gets there.
    public void Other_names_are_no_threads(string channel) =>
        Assert.False(ThreadChannel.TryParse(channel, out _, out _));

    [Fact]
    public void A_threads_access_is_its_parents()
    {
        var options = new HeraldOptions();
        var alice = new Caller(CallerKind.User, "alice");
        var carol = new Caller(CallerKind.User, "carol");
        Assert.Null(ChannelAccess.Check(options, "dm:alice~bob=5", alice, ChannelOperation.Publish));
        Assert.Equal(403, ChannelAccess.Check(options, "dm:alice~bob=5", carol, ChannelOperation.Subscribe)?.Status);
        Assert.Null(ChannelAccess.Check(options, "me:alice=3", alice, ChannelOperation.Subscribe));
        Assert.Equal(403, ChannelAccess.Check(options, "me:alice=3", carol, ChannelOperation.Subscribe)?.Status);

        // A non-canonical parent is refused with the canonical thread name.
        var denial = ChannelAccess.Check(options, "dm:bob~alice=5", alice, ChannelOperation.Subscribe);
        Assert.Equal("non_canonical_channel", denial?.Code);
        Assert.Equal("dm:alice~bob=5", denial?.Canonical);
    }

    [Fact]
    public void A_direct_member_set_whose_listed_name_would_read_as_a_thread_gets_a_hashed_name()
    {
        var name = DirectChannel.ForMembers("dm", ["alice", "bob=5"], 10, out _, out var hashed, out _);
        Assert.True(hashed);
        Assert.StartsWith("dm:=", name, StringComparison.Ordinal);
        Assert.Equal("dm:alice~bob", DirectChannel.ForMembers("dm", ["bob", "alice"], 10, out _, out _, out _));
    }
}
