using System.Globalization;
using System.Text;
using Herald.Channels;
using Herald.Engine;

namespace Herald.Tests.Publishing;

/// <summary>Builds a channel's publications in offset order, one a second, for the fold's tests.</summary>
internal sealed class FoldLog
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public List<Publication> Publications { get; } = [];

    public long Message(string? from, string data = "{}", string? type = null) => Add(from, type, data);

    public long Edit(string? from, long target, string data) => Add(from, ActionTypes.Edit, $$"""{"ref":{{target}},"data":{{data}}}""");

    public long Delete(string? from, long target) => Add(from, ActionTypes.Delete, $$"""{"ref":{{target}}}""");

    public long React(string? from, long target, string key) => Add(from, ActionTypes.React, $$"""{"ref":{{target}},"key":"{{key}}"}""");

    public long Unreact(string? from, long target, string key) => Add(from, ActionTypes.Unreact, $$"""{"ref":{{target}},"key":"{{key}}"}""");

    public long Thread(long target, long replies) =>
        Add(null, ActionTypes.Thread, $$$"""{"ref":{{{target}}},"replies":{{{replies}}},"last":{"offset":{{{replies}}},"time":"2026-03-01T12:00:00Z","from":"carol"}}""");

    public long Add(string? from, string? type, string data)
    {
        var offset = Publications.Count + 1L;
        Publications.Add(new Publication
        {
            Channel = "chat:a",
            Offset = offset,
            Epoch = "e1",
            Id = offset.ToString("x32", CultureInfo.InvariantCulture),
            Time = TimeOf(offset),
            From = from,
            Type = type,
            Data = Encoding.UTF8.GetBytes(data),
        });
        return offset;
    }

    public static DateTimeOffset TimeOf(long offset) => Start.AddSeconds(offset);
}
