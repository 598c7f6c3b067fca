using Herald.Engine;
using Herald.Http;
using Microsoft.Extensions.Primitives;

namespace Herald.Tests.Http;

public sealed class EntityTagsTests
{
    private static readonly string s_etag = EntityTags.OfHistory(new StreamState("x3kq9z1a", Top: 7, First: 1));

    [Theory]
    [InlineData("\"x3kq9z1a-1-7\"")]
    [InlineData("W/\"x3kq9z1a-1-7\"")]
    [InlineData("\"other\", \"x3kq9z1a-1-7\"")]
    [InlineData("W/\"a\",W/\"x3kq9z1a-1-7\" ,\"b\"")]
    [InlineData("*")]
    public void If_none_match_uses_weak_comparison_over_a_list(string header)
    {
        Assert.True(EntityTags.IfNoneMatch(new StringValues(header), s_etag));
    }

    [Theory]
    [InlineData("\"x3kq9z1a-1-6\"")]
    [InlineData("x3kq9z1a-1-7")]
    [InlineData("\"x3kq9z1a-1-7")]
    [InlineData("W/ \"x3kq9z1a-1-7\"")]
    [InlineData("")]
    public void A_different_or_malformed_tag_does_not_match(string header)
    {
        Assert.False(EntityTags.IfNoneMatch(new StringValues(header), s_etag));
    }

    [Fact]
    public void Tags_may_come_in_several_header_lines()
    {
        Assert.True(EntityTags.IfNoneMatch(new StringValues(["\"a\"", "W/\"x3kq9z1a-1-7\""]), s_etag));
    }
}
