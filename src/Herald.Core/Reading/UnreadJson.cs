using System.Text.Json.Serialization;

namespace Herald.Reading;

/// <summary>One channel's unread count as the HTTP answers and the WebSocket <c>read</c> reply carry it (docs/protocol.md, "Read markers and unread counts").</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Epoch">The channel's epoch ("" when never written).</param>
/// <param name="Top">The channel's newest offset.</param>
/// <param name="N">The countable ordinal at the top: how many messages the epoch holds.</param>
/// <param name="Read">The user's marker; absent when the user never read the channel (or the marker was of an older epoch: <paramref name="Reset"/>).</param>
/// <param name="Unread">Messages after the marker: <c>n − read.n</c>, exact and uncapped.</param>
/// <param name="Mentions">Offsets after the marker of messages that mention the user (the newest <c>Herald:Unread:MentionsKept</c>).</param>
/// <param name="FirstUnread">Where reading resumes (the offset after the marker, or the oldest retained one); absent when nothing is unread.</param>
/// <param name="Reset">True when the marker was of an older epoch: the channel's history was reset and all of it is unread.</param>
public sealed record UnreadChannelJson(string Channel, string Epoch, long Top, long N, ReadMarkerJson? Read, long Unread, IReadOnlyList<long> Mentions, long? FirstUnread = null, bool? Reset = null)
{
    public static UnreadChannelJson From(ChannelUnread unread)
    {
        ArgumentNullException.ThrowIfNull(unread);
        var marker = unread.Marker is { } m ? new ReadMarkerJson(m.Epoch, m.Offset, m.N, m.UpdatedAt.UtcDateTime) : null;
        return new(unread.Channel, unread.State.Epoch, unread.State.Top, unread.State.N, marker, unread.Unread, unread.Mentions, unread.FirstUnread, unread.Reset ? true : null);
    }
}

/// <summary>A read marker: the newest offset read and the countable ordinal there.</summary>
public sealed record ReadMarkerJson(string Epoch, long Offset, long N, DateTime UpdatedAt);

/// <summary>The answer of <c>GET /v1/me/unread</c>: per channel, and the sums.</summary>
public sealed record UnreadResponse(IReadOnlyList<UnreadChannelJson> Channels, long Total, long Mentions)
{
    public static UnreadResponse From(UnreadSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return new(summary.Channels.Select(UnreadChannelJson.From).ToList(), summary.Total, summary.Mentions);
    }
}

/// <summary>The answer of <c>PUT …/read</c>: whether the marker moved, and the channel's count with the marker stored.</summary>
public sealed record MarkReadResponse(bool Changed, UnreadChannelJson State);

/// <summary>The body of <c>PUT …/read</c> (optional): <c>offset</c> (absent: the top), <c>epoch</c> (checked when given), <c>unread: true</c> to move the marker back, <c>private: true</c> to show no receipt.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MarkReadRequest(long? Offset, string? Epoch, bool? Unread, bool? Private = null);

/// <summary>The body of <c>PUT …/delivered</c> (optional): <c>offset</c> (absent: the top), <c>epoch</c> (checked when given).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record DeliveredRequest(long? Offset, string? Epoch);

/// <summary>The answer of <c>PUT …/delivered</c>: whether the marker moved, and the marker stored (absent when the channel was never written).</summary>
public sealed record DeliveredResponse(string Channel, bool Changed, ReadMarkerJson? Delivered);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UnreadResponse))]
[JsonSerializable(typeof(UnreadChannelJson))]
[JsonSerializable(typeof(MarkReadResponse))]
[JsonSerializable(typeof(MarkReadRequest))]
[JsonSerializable(typeof(ReadMarkerJson))]
[JsonSerializable(typeof(DeliveredRequest))]
[JsonSerializable(typeof(DeliveredResponse))]
internal sealed partial class ReadingJsonContext : JsonSerializerContext;
