using System.Buffers;
using System.Text.Json;

namespace Herald.Http;

/// <summary>
/// The publish request body: <c>{"data": any JSON value, "type": "optional string"}</c>.
/// Unknown members are refused so that a typo never silently drops a field.
/// </summary>
internal readonly record struct PublishBody(byte[] Data, string? Type)
{
    /// <summary>64: long enough for a dotted event name, short enough to index.</summary>
    public const int MaxTypeLength = 64;

    public static bool TryParse(ReadOnlySpan<byte> utf8, out PublishBody body, out string error)
    {
        body = default;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "The body must be a JSON object: {\"data\": ..., \"type\": \"optional\"}.";
                return false;
            }

            byte[]? data = null;
            string? type = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("data"u8))
                {
                    if (data is not null)
                    {
                        error = "'data' appears twice.";
                        return false;
                    }

                    reader.Read();
                    data = CopyCompact(ref reader);
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                        continue;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "'type' must be a string.";
                        return false;
                    }

                    type = reader.GetString();
                    if (type is null || type.Length is 0 or > MaxTypeLength)
                    {
                        error = $"'type' must be 1 to {MaxTypeLength} characters.";
                        return false;
                    }
                }
                else
                {
                    error = $"Unknown member '{reader.GetString()}': the body accepts only 'data' and 'type'.";
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "The body must be exactly one JSON object.";
                return false;
            }

            if (data is null)
            {
                error = "'data' is required (any JSON value).";
                return false;
            }

            body = new PublishBody(data, type);
            error = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            error = $"The body is not valid JSON: {e.Message}";
            return false;
        }
    }

    /// <summary>
    /// Copies one JSON value without insignificant whitespace: stored data never contains a raw
    /// newline, so it fits an NDJSON line or an SSE data field as is.
    /// </summary>
    private static byte[] CopyCompact(ref Utf8JsonReader reader)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = false }))
        {
            using var value = JsonDocument.ParseValue(ref reader);
            value.RootElement.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
