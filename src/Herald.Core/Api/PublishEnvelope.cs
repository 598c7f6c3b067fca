using System.Buffers;
using System.Text.Json;
using Herald.Publishing;

namespace Herald.Api;

/// <summary>
/// The HTTP bodies around a JSON value: the publish body <c>{"data": any JSON value, "type":
/// "optional string"}</c> and the signal body <c>{"name": "string", "data": optional}</c>. Only the
/// envelope is read here; <c>data</c> is located, not copied — the service checks and compacts it.
/// Unknown members are refused so that a typo never silently drops a field.
/// </summary>
/// <param name="Text">The envelope's one string member (<c>type</c>, <c>name</c>); null when absent.</param>
/// <param name="Mentions">A publish's <c>mentions</c>: the user ids it mentions; null when absent.</param>
internal readonly record struct PublishEnvelope(ReadOnlySequence<byte> Data, string? Text, IReadOnlyList<string>? Mentions = null)
{
    /// <summary>An absent optional <c>data</c>.</summary>
    private static readonly ReadOnlySequence<byte> s_null = new("null"u8.ToArray());

    /// <summary>The publish body.</summary>
    public static bool TryParse(ReadOnlySequence<byte> utf8, out PublishEnvelope envelope, out string error) =>
        TryParse(utf8, "type", dataRequired: true, out envelope, out error);

    /// <param name="textMember">The name of the envelope's string member (<c>type</c> for a publish, <c>name</c> for a signal).</param>
    /// <param name="dataRequired">False: an absent <c>data</c> is JSON <c>null</c>.</param>
    public static bool TryParse(ReadOnlySequence<byte> utf8, string textMember, bool dataRequired, out PublishEnvelope envelope, out string error)
    {
        envelope = default;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = JsonData.MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = $"The body must be a JSON object: {{\"data\": ..., \"{textMember}\": \"...\"}}.";
                return false;
            }

            ReadOnlySequence<byte>? data = null;
            string? type = null;
            List<string>? mentions = null;
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
                else if (reader.ValueTextEquals(textMember))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                        continue;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = $"'{textMember}' must be a string.";
                        return false;
                    }

                    if (!JsonData.TryGetString(ref reader, out var text))
                    {
                        error = $"'{textMember}' is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).";
                        return false;
                    }

                    type = text;
                }
                else if (textMember == "type" && reader.ValueTextEquals("mentions"u8))
                {
                    reader.Read();
                    if (!Publishing.Mentions.TryRead(ref reader, out mentions, out error))
                        return false;
                }
                else
                {
                    var accepted = textMember == "type" ? "'data', 'type' and 'mentions'" : $"'data' and '{textMember}'";
                    error = JsonData.TryGetString(ref reader, out var name)
                        ? $"Unknown member '{name}': the body accepts only {accepted}."
                        : $"Unknown member (its name is not valid Unicode text): the body accepts only {accepted}.";
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
                if (dataRequired)
                {
                    error = "'data' is required (any JSON value).";
                    return false;
                }

                value = s_null;
            }

            envelope = new PublishEnvelope(value, type, mentions);
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
