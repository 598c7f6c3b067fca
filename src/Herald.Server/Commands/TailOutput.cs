using System.Globalization;
using System.Text.Json;
using Herald.Client;

namespace Herald.Server.Commands;

/// <summary>
/// What <c>herald tail</c> prints: one line per publication in the shape of the NDJSON stream's lines
/// (<c>{"cursor":…,"type":"publication","channel":…,"offset":…,…,"data":…}</c>) whatever the transport,
/// or with <c>--raw</c> the wire itself. Lines are written whole and flushed, so a pipe sees each at once.
/// </summary>
internal sealed class TailOutput(bool raw)
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly object gate = new();
    private readonly Stream stdout = Console.OpenStandardOutput();
    private readonly System.Buffers.ArrayBufferWriter<byte> line = new(1024);

    public bool Raw { get; } = raw;

    public static void Status(string message) => Console.Error.WriteLine(message);

    public void Wire(HeraldTransport transport, ReadOnlySpan<byte> utf8)
    {
        lock (gate)
        {
            stdout.Write(utf8);
            stdout.Write(NewLine);
            stdout.Flush();
        }
    }

    /// <summary>The cursor naming every channel's position; null before any is known.</summary>
    public static string? Cursor(IEnumerable<SubscriptionBase> subscriptions)
    {
        var positions = subscriptions.Where(s => s.Position is not null).Select(s => new KeyValuePair<string, Position>(s.Channel, s.Position!.Value)).ToList();
        return positions.Count == 0 ? null : HeraldCursor.Encode(positions);
    }

    public void Publication(Publication<JsonData> publication, IEnumerable<SubscriptionBase> subscriptions)
    {
        if (Raw)
            return;
        var cursor = Cursor(subscriptions);
        lock (gate)
        {
            line.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(line))
            {
                writer.WriteStartObject();
                if (cursor is not null)
                    writer.WriteString("cursor", cursor);
                writer.WriteString("type", "publication");
                writer.WriteString("channel", publication.Channel);
                writer.WriteNumber("offset", publication.Offset);
                writer.WriteString("epoch", publication.Epoch);
                writer.WriteString("id", publication.Id);
                writer.WriteString("time", publication.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                if (publication.From is not null)
                    writer.WriteString("from", publication.From);
                if (publication.Type is not null)
                    writer.WriteString("msgType", publication.Type);
                if (publication.Meta is { } meta)
                {
                    writer.WritePropertyName("meta");
                    writer.WriteRawValue(meta.Utf8.Span, skipInputValidation: true);
                }

                writer.WritePropertyName("data");
                writer.WriteRawValue(publication.Data.Utf8.Span, skipInputValidation: true);
                writer.WriteEndObject();
            }

            System.Buffers.BuffersExtensions.Write(line, NewLine);
            stdout.Write(line.WrittenSpan);
            stdout.Flush();
        }
    }
}
