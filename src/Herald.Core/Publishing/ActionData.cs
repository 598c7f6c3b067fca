using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Herald.Channels;

namespace Herald.Publishing;

/// <summary>
/// The data of an action on an earlier message, as <see cref="ActionTypes"/> defines it:
/// <c>herald.edit</c> <c>{"ref": offset, "data": any}</c>, <c>herald.delete</c> <c>{"ref": offset}</c>,
/// <c>herald.react</c> / <c>herald.unreact</c> <c>{"ref": offset, "key": "…"}</c>, and the
/// server's <c>herald.thread</c> <c>{"ref": rootOffset, …}</c> (its other members are the summary).
/// </summary>
/// <param name="Type">One of the action types.</param>
/// <param name="Ref">The offset of the message the action is about, at least 1.</param>
/// <param name="Key">The reaction key (react, unreact); null otherwise.</param>
/// <param name="Data">An edit's new data, compact JSON (a slice of the action's data); empty otherwise.</param>
public readonly record struct ActionData(string Type, long Ref, string? Key, ReadOnlyMemory<byte> Data)
{
    /// <summary>Whether <paramref name="type"/> is one a client may publish: edit, delete, react, unreact.</summary>
    public static bool IsClientAction(string? type) =>
        type is ActionTypes.Edit or ActionTypes.Delete or ActionTypes.React or ActionTypes.Unreact;

    /// <summary>Whether a publication of <paramref name="type"/> is folded into an earlier message by <see cref="LatestView"/>.</summary>
    public static bool IsFolded(string? type) => IsClientAction(type) || type == ActionTypes.Thread;

    /// <summary>
    /// Reads <paramref name="json"/> (one valid, compact JSON value) as the data of a
    /// <paramref name="type"/> action. Client actions are strict — exactly their members, a key of 1
    /// to <paramref name="maxKeyBytes"/> UTF-8 bytes — and <paramref name="error"/> says what is wrong.
    /// </summary>
    public static bool TryParse(string type, ReadOnlyMemory<byte> json, int maxKeyBytes, out ActionData action, [NotNullWhen(false)] out string? error)
    {
        action = default;
        if (!IsFolded(type))
        {
            error = $"'{type}' is not an action type.";
            return false;
        }

        try
        {
            return TryRead(type, json, maxKeyBytes, out action, out error);
        }
        catch (JsonException e)
        {
            error = $"The data of a {type} is not valid JSON: {e.Message}";
            return false;
        }
    }

    private static bool TryRead(string type, ReadOnlyMemory<byte> json, int maxKeyBytes, out ActionData action, [NotNullWhen(false)] out string? error)
    {
        action = default;
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = JsonData.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            error = $"The data of a {type} is a JSON object: {Shape(type)}.";
            return false;
        }

        long? reference = null;
        string? key = null;
        ReadOnlyMemory<byte>? data = null;
        var strict = type != ActionTypes.Thread;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isRef = reader.ValueTextEquals("ref"u8);
            var isKey = reader.ValueTextEquals("key"u8);
            var isData = reader.ValueTextEquals("data"u8);
            var name = reader.GetString();
            reader.Read();
            if (isRef && reference is null)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var offset) || offset < 1)
                {
                    error = $"'ref' must be the offset of a message: an integer of at least 1 ({Shape(type)}).";
                    return false;
                }

                reference = offset;
            }
            else if (isKey && key is null && type is ActionTypes.React or ActionTypes.Unreact)
            {
                if (reader.TokenType != JsonTokenType.String || !JsonData.TryGetString(ref reader, out var text) || text.Length == 0)
                {
                    error = $"'key' must be a non-empty string ({Shape(type)}).";
                    return false;
                }

                if (Encoding.UTF8.GetByteCount(text) > maxKeyBytes)
                {
                    error = $"'key' is longer than {maxKeyBytes} bytes (UTF-8; the namespace's MaxReactionKeyBytes).";
                    return false;
                }

                key = text;
            }
            else if (isData && data is null && type == ActionTypes.Edit)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                data = json[start..(int)reader.BytesConsumed];
            }
            else if (strict)
            {
                error = isRef || isKey || isData
                    ? $"'{name}' is given twice or does not belong in a {type}: {Shape(type)}."
                    : $"Unknown member '{name}' in the data of a {type}: {Shape(type)}.";
                return false;
            }
            else
            {
                reader.Skip();
            }
        }

        error = reference is null ? $"'ref' is required: {Shape(type)}."
            : key is null && type is ActionTypes.React or ActionTypes.Unreact ? $"'key' is required: {Shape(type)}."
            : data is null && type == ActionTypes.Edit ? $"'data' is required (the new data, any JSON value): {Shape(type)}."
            : null;
        if (error is not null)
            return false;

        action = new ActionData(type, reference!.Value, key, data ?? default);
        return true;
    }

    private static string Shape(string type) => type switch
    {
        ActionTypes.Edit => """{"ref": <offset>, "data": <any JSON>}""",
        ActionTypes.Delete => """{"ref": <offset>}""",
        ActionTypes.Thread => """{"ref": <root offset>, "replies": <n>, "last": {…}}""",
        _ => """{"ref": <offset>, "key": "<reaction>"}""",
    };
}
