using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.Channels;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// A source's target channel: fixed (<c>notify:deploys</c>) or a template whose <c>{dotted.path}</c>
/// placeholders are filled from the JSON body (<c>notify:{repository.full_name}</c>). Placeholders may
/// appear only in the name part; characters a channel name does not allow are replaced with '-'.
/// </summary>
internal sealed class ChannelTemplate
{
    private readonly List<(string Text, string[]? Path)> parts;

    private ChannelTemplate(List<(string Text, string[]? Path)> parts) => this.parts = parts;

    public bool IsFixed => parts.All(p => p.Path is null);

    public static ChannelTemplate? Parse(string? template, out string error)
    {
        if (string.IsNullOrEmpty(template))
        {
            error = "a channel or channel template is required.";
            return null;
        }

        var colon = template.IndexOf(':', StringComparison.Ordinal);
        var brace = template.IndexOfAny(['{', '}']);
        if (colon < 0 || (brace >= 0 && brace < colon) || !ChannelName.IsValid(template[..(colon + 1)] + "x"))
        {
            error = $"'{template}' must start with a valid literal namespace ('notify:...').";
            return null;
        }

        var parts = new List<(string, string[]?)>();
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = template.IndexOf('}', i);
            if (close >= 0 && (open < 0 || close < open))
            {
                error = $"'{template}' has an unmatched '}}'.";
                return null;
            }

            if (open < 0)
            {
                parts.Add((template[i..], null));
                break;
            }

            if (open > i)
                parts.Add((template[i..open], null));
            if (close < 0)
            {
                error = $"'{template}' has an unmatched '{{'.";
                return null;
            }

            var path = template[(open + 1)..close];
            var segments = path.Split('.');
            if (path.Contains('{', StringComparison.Ordinal) || segments.Any(s => s.Length == 0))
            {
                error = $"'{template}' has an empty or malformed placeholder '{{{path}}}'.";
                return null;
            }

            parts.Add((path, segments));
            i = close + 1;
        }

        var result = new ChannelTemplate(parts);
        if (result.IsFixed && !ChannelName.TryValidate(template, out var nameError))
        {
            error = nameError;
            return null;
        }

        error = string.Empty;
        return result;
    }

    /// <summary>Fills the placeholders from <paramref name="body"/>; false when a path is missing or the result is no valid channel name.</summary>
    public bool TryFill(JsonElement body, out string channel, out string error)
    {
        var builder = new StringBuilder();
        foreach (var (text, path) in parts)
        {
            if (path is null)
            {
                builder.Append(text);
                continue;
            }

            if (!TryResolve(body, path, out var value))
            {
                channel = string.Empty;
                error = $"The body has no string or number at '{text}' to fill the channel template.";
                return false;
            }

            foreach (var c in value)
                builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '=' or '@' or '~' ? c : '-');
        }

        channel = builder.ToString();
        if (!ChannelName.TryValidate(channel, out var nameError))
        {
            error = $"The filled channel '{channel}' is not valid: {nameError}";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool TryResolve(JsonElement element, string[] path, out string value)
    {
        value = string.Empty;
        foreach (var segment in path)
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(segment, out var child))
                element = child;
            else if (element.ValueKind == JsonValueKind.Array
                && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index < element.GetArrayLength())
                element = element[index];
            else
                return false;
        }

        value = element.ValueKind switch
        {
            JsonValueKind.String => element.GetString()!,
            JsonValueKind.Number => element.GetRawText(),
            _ => string.Empty,
        };
        return value.Length > 0;
    }
}
