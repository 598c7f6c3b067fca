using System.Text.Json;

namespace Herald.Publishing;

/// <summary>A publication's <c>mentions</c>: checked, de-duplicated, and written to its <c>meta</c> as <c>{"mentions":[…]}</c>.</summary>
public static class Mentions
{
    /// <summary>256: the longest user id a token's <c>sub</c> is given here.</summary>
    public const int MaxUserIdLength = 256;

    public static bool TryCheck(IReadOnlyList<string> mentioned, int max, out IReadOnlyList<string> users, out string error)
    {
        ArgumentNullException.ThrowIfNull(mentioned);
        users = [];
        var distinct = new List<string>(mentioned.Count);
        foreach (var user in mentioned)
        {
            if (user.Length is 0 or > MaxUserIdLength || user.Any(char.IsControl))
            {
                error = $"'mentions' must list user ids of 1 to {MaxUserIdLength} characters without control characters.";
                return false;
            }

            if (!distinct.Contains(user, StringComparer.Ordinal))
                distinct.Add(user);
        }

        if (distinct.Count > max)
        {
            error = $"'mentions' may name at most {max} users (Herald:Unread:MaxMentionsPerMessage).";
            return false;
        }

        users = distinct;
        error = string.Empty;
        return true;
    }

    public static byte[] ToMeta(IReadOnlyList<string> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("mentions"u8);
            foreach (var user in users)
                writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary><c>mentions</c>: an array of user id strings (or null); the publish service checks their number and form.</summary>
    public static bool TryRead(ref Utf8JsonReader reader, out List<string>? mentions, out string error)
    {
        mentions = null;
        error = string.Empty;
        if (reader.TokenType == JsonTokenType.Null)
            return true;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = "'mentions' must be an array of user ids (strings).";
            return false;
        }

        mentions = [];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String || !JsonData.TryGetString(ref reader, out var user))
            {
                error = "'mentions' must be an array of user ids (strings of valid Unicode text).";
                return false;
            }

            mentions.Add(user);
        }

        return true;
    }
}
