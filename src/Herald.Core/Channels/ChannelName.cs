using System.Diagnostics.CodeAnalysis;

namespace Herald.Channels;

/// <summary>
/// Channel names are <c>namespace:name</c>. The namespace is 1–32 characters of
/// <c>a-z 0-9 _ -</c>; the name is 1 or more characters of <c>A-Z a-z 0-9 _ - . = @ ~</c>;
/// the whole name is at most <see cref="MaxLength"/> characters. These characters need no
/// escaping in a URL path, a query string or a cursor.
/// </summary>
public static class ChannelName
{
    /// <summary>128: long enough for <c>user:</c> plus a UUID or an e-mail address, short enough for cursors.</summary>
    public const int MaxLength = 128;

    public const int MaxNamespaceLength = 32;

    public static bool TryValidate(string? channel, [NotNullWhen(false)] out string? error)
    {
        if (string.IsNullOrEmpty(channel))
        {
            error = "The channel name is empty.";
            return false;
        }

        if (channel.Length > MaxLength)
        {
            error = $"The channel name is longer than {MaxLength} characters.";
            return false;
        }

        var colon = channel.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == channel.Length - 1)
        {
            error = "A channel name is 'namespace:name', both parts non-empty (e.g. 'chat:lobby').";
            return false;
        }

        if (colon > MaxNamespaceLength)
        {
            error = $"The namespace is longer than {MaxNamespaceLength} characters.";
            return false;
        }

        for (var i = 0; i < colon; i++)
        {
            var c = channel[i];
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
            {
                error = $"The namespace may contain only a-z, 0-9, '_' and '-' (found {Describe(channel, i)} at {i}).";
                return false;
            }
        }

        for (var i = colon + 1; i < channel.Length; i++)
        {
            var c = channel[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '=' or '@' or '~'))
            {
                error = $"The name may contain only A-Z, a-z, 0-9 and '_ - . = @ ~' (found {Describe(channel, i)} at {i}).";
                return false;
            }
        }

        error = null;
        return true;
    }

    public static bool IsValid(string? channel) => TryValidate(channel, out _);

    /// <summary>
    /// The character at <paramref name="index"/> for a message: the whole code point when it is a
    /// surrogate pair (half of one is no text: JSON writers turn it into U+FFFD), <c>\uXXXX</c> for a lone surrogate.
    /// </summary>
    private static string Describe(string text, int index) =>
        System.Text.Rune.TryGetRuneAt(text, index, out var rune) ? $"'{rune}'" : $"\\u{(int)text[index]:X4}";

    /// <summary>The namespace part of a valid channel name.</summary>
    public static string NamespaceOf(string channel) => channel[..channel.IndexOf(':', StringComparison.Ordinal)];
}
