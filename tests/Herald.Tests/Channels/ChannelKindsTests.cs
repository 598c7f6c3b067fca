using System.Text;
using Herald.Auth;
using Herald.Channels;

namespace Herald.Tests.Channels;

public sealed class ChannelKindsTests
{
    private static readonly HeraldOptions Options = new();

    private static Caller User(string user, string? grants = null)
    {
        ChannelGrants? parsed = null;
        if (grants is not null)
            Assert.True(ChannelGrants.TryRead(Encoding.UTF8.GetBytes($$"""{"sub":"{{user}}","channels":{{grants}}}"""), 100, out parsed, out var error), error);
        return new Caller(CallerKind.User, user, Grants: parsed);
    }

    [Theory]
    [InlineData("dm:alice~bob", true, null)]
    [InlineData("dm:bob~alice", false, "dm:alice~bob")]
    [InlineData("dm:alice~bob~alice", false, "dm:alice~bob")]
    [InlineData("dm:Bob~alice", true, null)]     // ordinal: 'B' sorts before 'a'
    [InlineData("dm:alice~Bob", false, "dm:Bob~alice")]
    [InlineData("dm:alice", false, null)]        // one member
    [InlineData("dm:alice~~bob", false, null)]   // an empty member
    [InlineData("dm:alice~alice", false, null)]  // one distinct member
    [InlineData("dm:=abc", true, null)]          // hashed
    public void A_direct_name_is_canonical_only_when_sorted_and_without_repeats(string channel, bool ok, string? canonical)
    {
        Assert.Equal(ok, DirectChannel.TryCheck(channel, 10, out _, out var suggested, out var error));
        Assert.Equal(canonical, suggested);
        Assert.Equal(ok, error is null);
    }

    [Fact]
    public void MaxDirectMembers_is_the_boundary()
    {
        var ten = "dm:" + string.Join('~', Enumerable.Range(0, 10).Select(i => $"u{i}"));
        var eleven = "dm:" + string.Join('~', Enumerable.Range(0, 11).Select(i => $"u{i:00}"));
        Assert.True(DirectChannel.TryCheck(ten, 10, out var members, out _, out _));
        Assert.Equal(10, members.Length);
        Assert.False(DirectChannel.TryCheck(eleven, 10, out _, out _, out var error));
        Assert.Contains("2 to 10", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Members_that_fit_in_a_name_get_the_listed_name_others_a_stable_hashed_one()
    {
        Assert.Equal("dm:alice~bob", DirectChannel.ForMembers("dm", ["bob", "alice", "bob"], 10, out _, out var hashed, out _));
        Assert.False(hashed);

        var first = DirectChannel.ForMembers("dm", ["ann smith", "bob"], 10, out _, out hashed, out _);
        Assert.True(hashed);
        Assert.StartsWith("dm:=", first, StringComparison.Ordinal);
        Assert.True(ChannelName.IsValid(first));
        Assert.Equal(first, DirectChannel.ForMembers("dm", ["bob", "ann smith"], 10, out _, out _, out _));
        Assert.NotEqual(first, DirectChannel.ForMembers("dm", ["ann smith", "bob", "carol"], 10, out _, out _, out _));
        Assert.StartsWith("dm:=", DirectChannel.ForMembers("dm", ["a~b", "c"], 10, out _, out _, out _), StringComparison.Ordinal);
        Assert.Null(DirectChannel.ForMembers("dm", ["alice"], 10, out _, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void A_personal_channel_is_read_by_its_user_and_the_server_and_written_by_the_server_only()
    {
        Assert.Null(ChannelAccess.Check(Options, "me:alice", User("alice"), ChannelOperation.Subscribe));
        Assert.Null(ChannelAccess.Check(Options, "me:alice", Caller.Server, ChannelOperation.Subscribe));
        Assert.Null(ChannelAccess.Check(Options, "me:alice", Caller.Server, ChannelOperation.Publish));
        Assert.Equal(403, ChannelAccess.Check(Options, "me:alice", User("bob"), ChannelOperation.Subscribe)?.Status);
        Assert.Equal(401, ChannelAccess.Check(Options, "me:alice", Caller.Anonymous, ChannelOperation.Subscribe)?.Status);
        Assert.Equal(403, ChannelAccess.Check(Options, "me:alice", User("alice"), ChannelOperation.Publish)?.Status);
    }

    [Fact]
    public void A_direct_channel_is_used_by_its_members_and_the_server_and_its_name_must_be_canonical()
    {
        Assert.Null(ChannelAccess.Check(Options, "dm:alice~bob", User("bob"), ChannelOperation.Publish));
        Assert.Null(ChannelAccess.Check(Options, "dm:alice~bob", User("alice"), ChannelOperation.Subscribe));
        Assert.Null(ChannelAccess.Check(Options, "dm:alice~bob", Caller.Server, ChannelOperation.Subscribe));
        Assert.Equal(403, ChannelAccess.Check(Options, "dm:alice~bob", User("carol"), ChannelOperation.Subscribe)?.Status);
        Assert.Equal(401, ChannelAccess.Check(Options, "dm:alice~bob", Caller.Anonymous, ChannelOperation.Subscribe)?.Status);

        var refused = ChannelAccess.Check(Options, "dm:bob~alice", Caller.Server, ChannelOperation.Publish);
        Assert.Equal(400, refused?.Status);
        Assert.Equal("non_canonical_channel", refused?.Code);
        Assert.Equal("dm:alice~bob", refused?.Canonical);
    }

    [Fact]
    public void A_hashed_direct_channel_needs_a_grant()
    {
        var channel = DirectChannel.ForMembers("dm", ["ann smith", "bob"], 10, out _, out _, out _)!;
        Assert.Equal(403, ChannelAccess.Check(Options, channel, User("bob"), ChannelOperation.Subscribe)?.Status);
        Assert.Null(ChannelAccess.Check(Options, channel, User("bob", $$"""{"{{channel}}":["subscribe"]}"""), ChannelOperation.Subscribe));
    }

    [Fact]
    public void A_grant_opens_a_server_only_namespace_for_its_operations_and_patterns_only()
    {
        var options = new HeraldOptions();
        options.Namespaces["team"] = new ChannelPolicy { Subscribe = Access.ServerOnly, Publish = Access.ServerOnly };
        var alice = User("alice", """{"team:42":["subscribe","publish"],"team:x-*":["subscribe"]}""");
        Assert.Null(ChannelAccess.Check(options, "team:42", alice, ChannelOperation.Publish));
        Assert.Null(ChannelAccess.Check(options, "team:x-7", alice, ChannelOperation.Subscribe));
        Assert.Equal(403, ChannelAccess.Check(options, "team:x-7", alice, ChannelOperation.Publish)?.Status);
        Assert.Equal(403, ChannelAccess.Check(options, "team:43", alice, ChannelOperation.Subscribe)?.Status);
        Assert.Equal(403, ChannelAccess.Check(options, "team:42", User("bob"), ChannelOperation.Subscribe)?.Status);
    }

    [Fact]
    public void A_namespace_Kind_overrides_the_default_by_name()
    {
        var options = new HeraldOptions();
        options.Namespaces["me"] = new ChannelPolicy { Kind = ChannelKind.Public };
        options.Namespaces["inbox"] = new ChannelPolicy { Kind = ChannelKind.Personal };
        Assert.Equal(ChannelKind.Public, options.KindOf("me"));
        Assert.Equal(ChannelKind.Personal, options.KindOf("inbox"));
        Assert.Equal(ChannelKind.Direct, options.KindOf("dm"));
        Assert.Equal(ChannelKind.Public, options.KindOf("chat"));
        Assert.Equal(403, ChannelAccess.Check(options, "inbox:alice", User("bob"), ChannelOperation.Subscribe)?.Status);
    }

    [Theory]
    [InlineData("""{"channels":[]}""")]
    [InlineData("""{"channels":{"chat:a":"subscribe"}}""")]
    [InlineData("""{"channels":{"chat:a":["read"]}}""")]
    [InlineData("""{"channels":{"chat:a":[1]}}""")]
    [InlineData("""{"channels":{"*":["subscribe"]}}""")]
    [InlineData("""{"channels":{"no-namespace":["subscribe"]}}""")]
    public void A_malformed_channels_claim_refuses_the_token(string payload)
    {
        Assert.False(ChannelGrants.TryRead(Encoding.UTF8.GetBytes(payload), 100, out _, out var error));
        Assert.Contains("channels", error, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxChannelGrants_is_the_boundary()
    {
        string Claim(int n) => "{\"channels\":{" + string.Join(',', Enumerable.Range(0, n).Select(i => $"\"chat:{i}\":[\"subscribe\"]")) + "}}";
        Assert.True(ChannelGrants.TryRead(Encoding.UTF8.GetBytes(Claim(3)), 3, out var grants, out _));
        Assert.Equal(3, grants!.Count);
        Assert.False(ChannelGrants.TryRead(Encoding.UTF8.GetBytes(Claim(4)), 3, out _, out var error));
        Assert.Contains("MaxChannelGrants", error, StringComparison.Ordinal);
        Assert.True(ChannelGrants.TryRead("""{"sub":"a"}"""u8, 3, out var none, out _));
        Assert.Null(none);
    }
}
