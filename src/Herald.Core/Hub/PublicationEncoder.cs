using System.Buffers;
using System.Text.Json;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// Encodes a <see cref="Publication"/> as the push message every transport carries:
/// <code>
/// {"type":"publication","channel":"chat:lobby","offset":42,"epoch":"k3f9","id":"0197…","time":"2026-01-02T03:04:05.678Z","from":"alice","msgType":"message","n":17,"data":{…}}
/// </code>
/// <list type="table">
/// <item><term>type</term><description>always <c>"publication"</c>: the envelope's discriminator (control messages use other values).</description></item>
/// <item><term>channel</term><description>the channel name.</description></item>
/// <item><term>offset</term><description>the position in the channel's log, a JSON number, contiguous from 1.</description></item>
/// <item><term>epoch</term><description>the log generation; a change means history was lost.</description></item>
/// <item><term>id</term><description>the server-assigned unique id (32 hex digits).</description></item>
/// <item><term>time</term><description>when it was appended, ISO 8601 in UTC (<c>Z</c>).</description></item>
/// <item><term>from</term><description>the publishing user id; omitted for server publishes.</description></item>
/// <item><term>msgType</term><description>the application-defined kind; omitted when not set. Not <c>type</c>, which names the envelope.</description></item>
/// <item><term>n</term><description>the countable ordinal: present only on publications that count as messages (unread counts are differences of it).</description></item>
/// <item><term>meta</term><description>server-set facts about the origin (an inbound webhook's source and delivery id); omitted when none.</description></item>
/// <item><term>data</term><description>the payload, exactly the JSON the publisher sent (only insignificant line breaks removed).</description></item>
/// </list>
/// </summary>
public static class PublicationEncoder
{
    private static readonly JsonEncodedText s_type = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText s_publication = JsonEncodedText.Encode("publication");
    private static readonly JsonEncodedText s_channel = JsonEncodedText.Encode("channel");
    private static readonly JsonEncodedText s_offset = JsonEncodedText.Encode("offset");
    private static readonly JsonEncodedText s_epoch = JsonEncodedText.Encode("epoch");
    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText s_time = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText s_from = JsonEncodedText.Encode("from");
    private static readonly JsonEncodedText s_msgType = JsonEncodedText.Encode("msgType");
    private static readonly JsonEncodedText s_meta = JsonEncodedText.Encode("meta");
    private static readonly JsonEncodedText s_n = JsonEncodedText.Encode("n");
    private static readonly JsonEncodedText s_data = JsonEncodedText.Encode("data");

    // One scratch buffer and writer per thread: encoding then costs exactly one exact-size array.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>Encodes <paramref name="publication"/> in <paramref name="format"/> into a new exact-size array.</summary>
    public static byte[] Encode(Publication publication, WireFormat format)
    {
        ArgumentNullException.ThrowIfNull(publication);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        try
        {
            switch (format)
            {
                case WireFormat.Json:
                    WriteJson(buffer, publication);
                    break;
                case WireFormat.Ndjson:
                    WriteJson(buffer, publication);
                    buffer.Write("\n"u8);
                    break;
                case WireFormat.Sse:
                    SseEventEncoder.Write(buffer, publication);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown wire format.");
            }

            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // Don't let one huge message pin a large scratch array on a pool thread for ever.
            if (buffer.Capacity > 256 * 1024)
                t_buffer = null;
        }
    }

    /// <summary>Writes the push JSON object (no trailing newline) to <paramref name="output"/>.</summary>
    public static void WriteJson(IBufferWriter<byte> output, Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        var writer = t_writer;
        if (writer is null)
            t_writer = writer = new Utf8JsonWriter(output);
        else
            writer.Reset(output);

        try
        {
            WriteObject(writer, publication);
            writer.Flush();
        }
        finally
        {
            // Drop the reference to output so a pooled thread does not keep it alive.
            writer.Reset(Stream.Null);
        }
    }

    /// <summary>
    /// Writes the publication object to <paramref name="writer"/>: the one JSON shape of a
    /// publication on every transport, pushed or read (history, polls, WebSocket replies).
    /// </summary>
    public static void WriteObject(Utf8JsonWriter writer, Publication publication)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(publication);
        writer.WriteStartObject();
        writer.WriteString(s_type, s_publication);
        writer.WriteString(s_channel, publication.Channel);
        writer.WriteNumber(s_offset, publication.Offset);
        writer.WriteString(s_epoch, publication.Epoch);
        writer.WriteString(s_id, publication.Id);
        writer.WriteString(s_time, publication.Time.UtcDateTime);
        if (publication.From is not null)
            writer.WriteString(s_from, publication.From);
        if (publication.Type is not null)
            writer.WriteString(s_msgType, publication.Type);
        if (publication.Countable)
            writer.WriteNumber(s_n, publication.N);
        if (!publication.Meta.IsEmpty)
        {
            writer.WritePropertyName(s_meta);
            writer.WriteRawValue(publication.Meta.Span, skipInputValidation: true);
        }

        writer.WritePropertyName(s_data);
        WriteData(writer, publication.Data.Span);
        writer.WriteEndObject();
    }

    /// <summary>A stored JSON value as it is, or re-written compactly when it holds a raw line break (which would split a frame).</summary>
    internal static void WriteData(Utf8JsonWriter writer, ReadOnlySpan<byte> data)
    {
        // Data was validated as one JSON value when it was published, so it is copied verbatim
        // without a second parse. The one exception: a raw line break (legal only as whitespace
        // in JSON) would split an NDJSON line, an SSE data field or a '\n'-joined WebSocket frame,
        // so such a payload is re-written compactly. Pretty-printed payloads are rare; the scan is
        // vectorised.
        if (data.IndexOfAny((byte)'\n', (byte)'\r') < 0)
        {
            writer.WriteRawValue(data, skipInputValidation: true);
            return;
        }

        var reader = new Utf8JsonReader(data);
        using var document = JsonDocument.ParseValue(ref reader);
        document.RootElement.WriteTo(writer);
    }

    /// <summary>The members of a history answer, shared by HTTP and the WebSocket <c>history</c> reply.</summary>
    public static void WriteHistoryMembers(Utf8JsonWriter writer, string channel, StreamState state, IReadOnlyList<Publication> publications)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(publications);
        writer.WriteString("channel"u8, channel);
        writer.WriteString("epoch"u8, state.Epoch);
        writer.WriteNumber("top"u8, state.Top);
        writer.WriteNumber("first"u8, state.First);
        writer.WriteNumber("n"u8, state.N);
        writer.WriteStartArray("publications"u8);
        foreach (var publication in publications)
            WriteObject(writer, publication);
        writer.WriteEndArray();
    }
}
