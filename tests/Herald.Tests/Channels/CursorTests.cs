using Herald.Channels;
using Herald.Engine;

namespace Herald.Tests.Channels;

public sealed class CursorTests
{
    [Fact]
    public void A_cursor_of_twenty_channels_round_trips()
    {
        var channels = Enumerable.Range(0, 20).Select(i => $"chat:room-{i}").ToList();
        var positions = channels.Select((c, i) => new KeyValuePair<string, Position>(c, new Position("AbCd-_12", i * 1000L + i))).ToList();
        var token = Cursor.Encode(positions);
        Assert.True(Cursor.TryDecode(token, channels, out var decoded, out var error), error);
        Assert.Equal(20, decoded.Count);
        foreach (var (channel, position) in positions)
            Assert.Equal(position, decoded[channel]);
    }

    [Fact]
    public void A_cursor_of_three_channels_is_short_and_url_safe()
    {
        var token = Cursor.Encode([
            new("chat:lobby", new Position("x3kq9z1a", 123456)),
            new("notify:orders", new Position("Zz09-_ab", 7)),
            new("user:alice", new Position("Qq11Ww22", 0)),
        ]);
        Assert.True(token.Length <= 128, $"{token.Length} characters");
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    [Fact]
    public void Channels_missing_from_the_cursor_get_no_position()
    {
        var token = Cursor.Encode("chat:a", new Position("e1", 5));
        Assert.True(Cursor.TryDecode(token, ["chat:a", "chat:b"], out var decoded, out _));
        Assert.Equal(new Position("e1", 5), decoded["chat:a"]);
        Assert.False(decoded.ContainsKey("chat:b"));
    }

    [Theory]
    [InlineData("!!!")]
    [InlineData("AA")]
    [InlineData("Ag")]
    [InlineData("AQIDBAUG")]
    public void Malformed_cursors_are_refused_with_a_reason(string token)
    {
        Assert.False(Cursor.TryDecode(token, ["chat:a"], out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void A_cursor_for_other_channels_is_refused()
    {
        var token = Cursor.Encode("chat:a", new Position("e1", 5));
        Assert.False(Cursor.TryDecode(token, ["chat:b"], out _, out var error));
        Assert.Contains("does not subscribe", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_cursor_means_no_positions() =>
        Assert.True(Cursor.TryDecode("", ["chat:a"], out var decoded, out _) && decoded.Count == 0);
}
