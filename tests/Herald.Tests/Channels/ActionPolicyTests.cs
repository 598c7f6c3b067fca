using Herald.Channels;

namespace Herald.Tests.Channels;

/// <summary>The namespace settings of edits, reactions and threads: defaults, and each limit at its boundaries.</summary>
public sealed class ActionPolicyTests
{
    private static List<string> Errors(Action<ChannelPolicy> set)
    {
        var options = new HeraldOptions();
        set(options.Namespaces["chat"] = new ChannelPolicy());
        return options.Validate();
    }

    [Fact]
    public void The_defaults_are_own_edits_distinct_reactions_and_threads_with_a_summary_a_second()
    {
        var policy = new ChannelPolicy();
        Assert.Equal(EditPolicy.Own, policy.Edits);
        Assert.Equal(ReactionPolicy.Distinct, policy.Reactions);
        Assert.Equal(64, policy.MaxReactionKeyBytes);
        Assert.Equal(20, policy.ReactionUsersListed);
        Assert.True(policy.Threads);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.ThreadSummaryInterval);
        Assert.Empty(Errors(_ => { }));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(1024, true)]
    [InlineData(1025, false)]
    public void MaxReactionKeyBytes_is_from_1_to_1024(int value, bool valid) =>
        Assert.Equal(valid, Errors(p => p.MaxReactionKeyBytes = value).Count == 0);

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(1000, true)]
    [InlineData(1001, false)]
    public void ReactionUsersListed_is_from_0_to_1000(int value, bool valid) =>
        Assert.Equal(valid, Errors(p => p.ReactionUsersListed = value).Count == 0);

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(60_000, true)]
    [InlineData(60_001, false)]
    public void ThreadSummaryInterval_is_from_0_to_a_minute(int milliseconds, bool valid) =>
        Assert.Equal(valid, Errors(p => p.ThreadSummaryInterval = TimeSpan.FromMilliseconds(milliseconds)).Count == 0);

    [Fact]
    public void Unknown_edit_and_reaction_policies_are_refused_with_the_values_to_use()
    {
        Assert.Contains(Errors(p => p.Edits = (EditPolicy)7), e => e.Contains("Edits must be Off, Own or Any", StringComparison.Ordinal));
        Assert.Contains(Errors(p => p.Reactions = (ReactionPolicy)7), e => e.Contains("Reactions must be Off, Distinct, Unique or Multiple", StringComparison.Ordinal));
    }
}
