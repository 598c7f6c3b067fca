using System.Buffers;
using System.Text.Json;
using Herald.Publishing;

namespace Herald.Api;

/// <summary>
/// The HTTP publish body: <c>{"data": any JSON value, "type": "optional string"}</c>. Only the
/// envelope is read here; <c>data</c> is located, not copied — the publish service checks and
/// compacts it. Unknown members are refused so that a typo never silently drops a field.
/// </summary>
internal readonly record struct PublishEnvelope(ReadOnlySequence<byte> Data, string? Type)
{
    public static bool TryParse(ReadOnlySequence<byte> utf8, out PublishEnvelope envelope, out string error)
    {
        envelope = default;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = JsonData.MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "The body must be a JSON object: {\"data\": ..., \"type\": \"optional\"}.";
                return false;
            }

            ReadOnlySequence<byte>? data = null;
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
                    var start = reader.TokenStartIndex;
                    reader.Skip();
                    data = utf8.Slice(start, reader.BytesConsumed - start);
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

                    if (!JsonData.TryGetString(ref reader, out var text))
                    {
                        error = "'type' is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).";
                        return false;
                    }

                    type = text;
                }
                else
                {
                    error = JsonData.TryGetString(ref reader, out var name)
                        ? $"Unknown member '{name}': the body accepts only 'data' and 'type'."
                        : "Unknown member (its name is not valid Unicode text): the body accepts only 'data' and 'type'.";
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "The body must be exactly one JSON object.";
                return false;
            }

            if (data is not { } value)
            {
                error = "'data' is required (any JSON value).";
                return false;
            }

            envelope = new PublishEnvelope(value, type);
            error = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            error = $"The body is not valid JSON: {e.Message}";
            return false;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader unescaping a member name that is not valid Unicode (a lone surrogate).
            error = "A member name is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).";
            return false;
        }
    }
}
