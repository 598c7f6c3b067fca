using System.Text.Json;
using Herald.Engine;
using Herald.Hub;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports.LongPoll;

/// <summary>
/// A poll's answer:
/// <code>
/// {"cursor":"AQ…","channels":{"chat:a":{"recovered":true,"epoch":"x3kq9z1a","offset":42}},
///  "publications":[{"channel":"chat:a","offset":42,"epoch":"x3kq9z1a","id":"…","time":"…","data":…}],"more":false}
/// </code>
/// See docs/protocol.md for the meaning of each field.
/// </summary>
internal sealed class PollAnswer(PollChannel[] channels, List<Publication> publications, bool more) : IResult
{
    // Past this much unflushed JSON the writer hands it to Kestrel, so a 1,000-message answer is
    // streamed in 32 KiB pieces instead of buffered whole.
    private const int FlushThreshold = 32 * 1024;

    public IReadOnlyList<PollChannel> Channels => channels;

    public IReadOnlyList<Publication> Publications => publications;

    /// <summary>The budget cut the answer short: the client polls again at once with the new cursor.</summary>
    public bool More => more;

    /// <summary>Something to tell the client now: publications, or a channel that was reset.</summary>
    public bool HasNews => publications.Count > 0 || Array.Exists(channels, c => !c.Recovered);

    /// <summary>Every channel's position, in request order: the next read of a poll that keeps holding starts here.</summary>
    public Position?[] Positions() => Array.ConvertAll(channels, c => (Position?)c.Position);

    /// <summary>
    /// The answer to a poll that held with this (empty) answer and was woken by
    /// <paramref name="publication"/>: that publication alone, when it is the very next offset of
    /// its channel's position; null when the log must be read instead.
    /// </summary>
    public PollAnswer? TryAnswerWith(Publication publication)
    {
        if (publications.Count != 0 || more)
            return null;

        var index = Array.FindIndex(channels, c => string.Equals(c.Channel, publication.Channel, StringComparison.Ordinal));
        if (index < 0 || !channels[index].Recovered)
            return null;

        var channel = channels[index];
        var position = channel.Position;
        // Offset 0 is "before the first publication" of whatever epoch the channel has.
        var isNext = publication.Offset == position.Offset + 1
            && (position.Offset == 0 || string.Equals(position.Epoch, publication.Epoch, StringComparison.Ordinal));
        if (!isNext)
            return null;

        var updated = (PollChannel[])channels.Clone();
        updated[index] = channel with
        {
            Position = publication.Position,
            State = new StreamState(publication.Epoch, publication.Offset, Math.Min(channel.State.First, publication.Offset), publication.N),
        };
        return new PollAnswer(updated, [publication], more: false) { Presence = Presence, Typing = Typing };
    }

    /// <summary>Per channel, the <c>presence</c> member of a poll that asked for presence (compact JSON); null when it did not.</summary>
    public IReadOnlyDictionary<string, byte[]>? Presence { get; init; }

    /// <summary>Per channel, the <c>typing</c> member of a poll that named its typing sets (compact JSON); null when it did not.</summary>
    public IReadOnlyDictionary<string, byte[]>? Typing { get; init; }

    /// <summary>This answer with the presence and typing parts of the poll.</summary>
    public PollAnswer WithParts(IReadOnlyDictionary<string, byte[]>? presence, IReadOnlyDictionary<string, byte[]>? typing) =>
        presence is null && typing is null ? this : new PollAnswer(channels, publications, more) { Presence = presence, Typing = typing };

    public string Cursor()
    {
        var positions = new KeyValuePair<string, Position>[channels.Length];
        for (var i = 0; i < channels.Length; i++)
            positions[i] = new(channels[i].Channel, channels[i].Position);
        return Herald.Channels.Cursor.Encode(positions);
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        var body = response.BodyWriter;
        var cancellationToken = httpContext.RequestAborted;
        await using var writer = new Utf8JsonWriter(body);
        writer.WriteStartObject();
        writer.WriteString("cursor"u8, Cursor());
        writer.WriteStartObject("channels"u8);
        foreach (var channel in channels)
        {
            writer.WriteStartObject(channel.Channel);
            writer.WriteBoolean("recovered"u8, channel.Recovered);
            writer.WriteString("epoch"u8, channel.Position.Epoch);
            writer.WriteNumber("offset"u8, channel.Position.Offset);
            if (Presence is not null && Presence.TryGetValue(channel.Channel, out var presence))
            {
                writer.WritePropertyName("presence"u8);
                writer.WriteRawValue(presence, skipInputValidation: true);
            }

            if (Typing is not null && Typing.TryGetValue(channel.Channel, out var typing))
            {
                writer.WritePropertyName("typing"u8);
                writer.WriteRawValue(typing, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteStartArray("publications"u8);
        foreach (var publication in publications)
        {
            PublicationEncoder.WriteObject(writer, publication);
            if (writer.BytesPending > FlushThreshold)
            {
                await writer.FlushAsync(cancellationToken);
                await body.FlushAsync(cancellationToken);
            }
        }

        writer.WriteEndArray();
        writer.WriteBoolean("more"u8, more);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }
}
