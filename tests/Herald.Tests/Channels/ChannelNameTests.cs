using Herald.Channels;

namespace Herald.Tests.Channels;

public sealed class ChannelNameTests
{
    [Theory]
    [InlineData("chat:lobby")]
    [InlineData("user:alice@example.com")]
    [InlineData("notify:orders.eu-west_1")]
    [InlineData("a:b")]
    [InlineData("ns-1_x:Name=~.@")]
    public void Valid_names_are_accepted(string channel) => Assert.True(ChannelName.IsValid(channel));

    [Theory]
    [InlineData("")]
    [InlineData("lobby")]
    [InlineData(":lobby")]
    [InlineData("chat:")]
    [InlineData("Chat:lobby")]
    [InlineData("chat:lob by")]
    [InlineData("chat:lobby/1")]
    [InlineData("chat:a:b")]
    [InlineData("chat:é")]
    public void Invalid_names_are_refused_with_a_reason(string channel)
    {
        Assert.False(ChannelName.TryValidate(channel, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void The_maximum_length_is_accepted_and_one_more_is_refused()
    {
        var longest = "chat:" + new string('a', ChannelName.MaxLength - 5);
        Assert.True(ChannelName.IsValid(longest));
        Assert.False(ChannelName.IsValid(longest + "a"));
    }

    [Fact]
    public void The_namespace_length_is_bounded()
    {
        Assert.True(ChannelName.IsValid(new string('n', ChannelName.MaxNamespaceLength) + ":x"));
        Assert.False(ChannelName.IsValid(new string('n', ChannelName.MaxNamespaceLength + 1) + ":x"));
    }

    [Fact]
    public void Unknown_namespaces_get_the_default_policy()
    {
        var options = new HeraldOptions();
        var chat = new ChannelPolicy { HistorySize = 5 };
        options.Namespaces["chat"] = chat;
        Assert.Same(chat, options.PolicyFor("chat:lobby"));
        Assert.Same(options.DefaultPolicy, options.PolicyFor("other:lobby"));
    }

    [Fact]
    public void Invalid_settings_are_reported_on_start()
    {
        var options = new HeraldOptions { Store = "mongo", MaxHistoryLimit = 0 };
        options.Namespaces["Bad NS"] = new ChannelPolicy { HistorySize = 0 };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("Store", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("MaxHistoryLimit", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Bad NS", StringComparison.Ordinal));
    }

    /// <summary>
    /// Found by the channel-name fuzz target: the refusal quoted one UTF-16 unit, half of a character
    /// outside the BMP, which every JSON writer (problem documents, WebSocket replies) turns into U+FFFD.
    /// </summary>
    [Theory]
    [InlineData("user_1\U0001F600C=@ser_1 x:ZA", "'\U0001F600' at 6")]
    [InlineData("chat:a\U0001F600", "'\U0001F600' at 6")]
    public void Refusal_quotes_the_whole_character(string channel, string quoted)
    {
        Assert.False(ChannelName.TryValidate(channel, out var error));
        Assert.Contains(quoted, error, StringComparison.Ordinal);
        // Valid UTF-16 survives a round trip through UTF-8 unchanged; half a surrogate pair does not.
        Assert.Equal(error, System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(error)));
    }

    [Fact]
    public void Refusal_quotes_a_lone_surrogate_as_an_escape()
    {
        // Built at run time: a lone surrogate does not survive in attribute metadata.
        var channel = "chat:a" + (char)0xD83D;
        Assert.False(ChannelName.TryValidate(channel, out var error));
        Assert.Contains("\\uD83D at 6", error, StringComparison.Ordinal);
    }
}
