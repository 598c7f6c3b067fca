using System.Text.Json;
using Herald.Log;

namespace Herald;

/// <summary>The one JSON shape of a publication, shared by history answers and pushes.</summary>
internal static class PublicationJson
{
    public static void Write(Utf8JsonWriter writer, Publication publication, bool includeChannel)
    {
        writer.WriteStartObject();
        if (includeChannel)
            writer.WriteString("channel"u8, publication.Channel);
        writer.WriteNumber("offset"u8, publication.Offset);
        writer.WriteString("epoch"u8, publication.Epoch);
        writer.WriteString("id"u8, publication.Id);
        writer.WriteString("time"u8, publication.Time.UtcDateTime);
        if (publication.From is not null)
            writer.WriteString("from"u8, publication.From);
        if (publication.Type is not null)
            writer.WriteString("type"u8, publication.Type);
        writer.WritePropertyName("data"u8);
        writer.WriteRawValue(publication.Data.Span, skipInputValidation: true);
        writer.WriteEndObject();
    }
}
