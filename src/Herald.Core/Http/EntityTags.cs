using System.Globalization;
using Herald.Engine;
using Microsoft.Extensions.Primitives;

namespace Herald.Http;

/// <summary>Entity tags of history and short-poll answers, and <c>If-None-Match</c> as RFC 9110 §13.1.2 reads it.</summary>
internal static class EntityTags
{
    /// <summary>The history ETag: <c>"&lt;epoch&gt;-&lt;first&gt;-&lt;top&gt;"</c>, the channel's log state.</summary>
    public static string OfHistory(StreamState state) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{state.Epoch}-{state.First}-{state.Top}\"");

    /// <summary>
    /// Whether <c>If-None-Match</c> matches <paramref name="etag"/> with the weak comparison RFC 9110
    /// prescribes for it: <c>W/</c> prefixes are ignored (a compressing proxy marks the tags it
    /// passes on weak), the header may list several tags (across several header lines), and
    /// <c>*</c> matches any current representation.
    /// </summary>
    public static bool IfNoneMatch(StringValues header, string etag)
    {
        var opaque = etag.AsSpan();
        if (opaque.StartsWith("W/"))
            opaque = opaque[2..];

        foreach (var value in header)
        {
            if (value is null)
                continue;
            var rest = value.AsSpan();
            while (true)
            {
                rest = rest.TrimStart(" \t,");
                if (rest.IsEmpty)
                    break;
                if (rest[0] == '*')
                    return true;
                if (rest.StartsWith("W/"))
                    rest = rest[2..];
                if (rest.IsEmpty || rest[0] != '"')
                    break; // Malformed: no tag can be read past this point.
                var close = rest[1..].IndexOf('"');
                if (close < 0)
                    break;
                var tag = rest[..(close + 2)];
                if (tag.SequenceEqual(opaque))
                    return true;
                rest = rest[(close + 2)..];
            }
        }

        return false;
    }
}
