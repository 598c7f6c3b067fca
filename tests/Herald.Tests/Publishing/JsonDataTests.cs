using System.Buffers;
using System.Text;
using Herald.Publishing;

namespace Herald.Tests.Publishing;

public sealed class JsonDataTests
{
    [Theory]
    [InlineData("{ \"a\" : [ 1 , 2 ] ,\n\t\"b\":\r\n\"x y\" }", "{\"a\":[1,2],\"b\":\"x y\"}")]
    [InlineData("\"keeps \\\" quotes, \\\\ and  spaces \"", "\"keeps \\\" quotes, \\\\ and  spaces \"")]
    [InlineData("  42  ", "42")]
    [InlineData("\"\\ud83d\\ude00 is a pair\"", "\"\\ud83d\\ude00 is a pair\"")]
    [InlineData("\"é — 😀\"", "\"é — 😀\"")]
    [InlineData("null", "null")]
    public void Valid_json_is_compacted_outside_strings_only(string json, string compact)
    {
        Assert.True(JsonData.TryCompact(Encoding.UTF8.GetBytes(json).AsMemory(), out var result, out var error), error);
        Assert.Equal(compact, Encoding.UTF8.GetString(result));
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"\\udc00\"")]
    [InlineData("\"\\ud800x\"")]
    [InlineData("\"\\ud800\\n\"")]
    [InlineData("\"\\ud800\\ud800\"")]
    [InlineData("\"\\udc00\\ud800\"")]
    [InlineData("{\"\\ud800\":1}")]
    [InlineData("[\"ok\",{\"k\":\"\\uDBFF\"}]")]
    public void A_lone_surrogate_escape_anywhere_is_refused(string json)
    {
        Assert.False(JsonData.TryCompact(Encoding.UTF8.GetBytes(json).AsMemory(), out _, out var error));
        Assert.Contains("surrogate", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'"', 0xC3, 0x28, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xC0, 0xAF, (byte)'"' })]
    [InlineData(new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    public void Invalid_utf8_inside_a_string_or_a_member_name_is_refused(byte[] json)
    {
        Assert.False(JsonData.TryCompact(json.AsMemory(), out _, out var error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 2")]
    [InlineData("{\"a\":1}{}")]
    [InlineData("{\"a\":}")]
    [InlineData("[1,]")]
    [InlineData("'single'")]
    public void Anything_but_one_json_value_is_refused(string json)
    {
        Assert.False(JsonData.TryCompact(Encoding.UTF8.GetBytes(json).AsMemory(), out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Nesting_is_limited_to_64_levels()
    {
        var ok = new string('[', 64) + new string(']', 64);
        var deep = new string('[', 65) + new string(']', 65);
        Assert.True(JsonData.TryCompact(Encoding.UTF8.GetBytes(ok).AsMemory(), out _, out _));
        Assert.False(JsonData.TryCompact(Encoding.UTF8.GetBytes(deep).AsMemory(), out _, out _));
    }

    [Fact]
    public void Text_split_across_buffers_is_read_as_one_value()
    {
        var json = Encoding.UTF8.GetBytes("{ \"text\" : \"h\\u00e9llo \\ud83d\\ude00\" , \"n\" : [1, 2] }");
        var sequence = Split(json, 3);

        Assert.True(JsonData.TryCompact(sequence, out var compact, out var error), error);
        Assert.Equal("{\"text\":\"h\\u00e9llo \\ud83d\\ude00\",\"n\":[1,2]}", Encoding.UTF8.GetString(compact));
        Assert.False(JsonData.TryCompact(Split(Encoding.UTF8.GetBytes("[\"a\\ud800b\"]"), 2), out _, out _));
    }

    /// <summary>A sequence of segments of <paramref name="size"/> bytes, as a request body arrives in a pipe.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var segment = new Segment(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)), last);
            first ??= segment;
            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
