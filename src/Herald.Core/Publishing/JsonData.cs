using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Herald.Publishing;

/// <summary>
/// The one check and compaction of a publication's <c>data</c>, whatever entry point it came
/// through. Herald stores I-JSON text (RFC 7493 §2.1): one JSON value, UTF-8 without invalid
/// sequences, no lone surrogate escape (<c>"\ud800"</c>) in any string or member name — text that
/// every client's JSON parser reads back as it was sent. Anything else is refused with
/// <c>invalid_body</c>; nothing is stored.
/// </summary>
public static class JsonData
{
    /// <summary>64: deeper documents are a parser attack, not a message.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Validates one complete JSON value and returns it without insignificant whitespace, in a new
    /// array that is the only copy made of it: stored data never holds a raw line break, so it fits
    /// an NDJSON line or an SSE <c>data:</c> field as is.
    /// </summary>
    public static bool TryCompact(ReadOnlySequence<byte> json, out byte[] compact, out string error)
    {
        compact = [];
        if (!TryValidate(json, out error))
            return false;

        var length = CompactLength(json);
        if (length == json.Length)
        {
            compact = json.ToArray();
            return true;
        }

        compact = new byte[length];
        CopyCompact(json, compact);
        return true;
    }

    /// <inheritdoc cref="TryCompact(ReadOnlySequence{byte}, out byte[], out string)"/>
    public static bool TryCompact(ReadOnlyMemory<byte> json, out byte[] compact, out string error) =>
        TryCompact(new ReadOnlySequence<byte>(json), out compact, out error);

    /// <summary>A string token's value, or false when it is not valid Unicode (invalid UTF-8, a lone surrogate escape).</summary>
    public static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString() ?? string.Empty;
            return true;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader refuses to transcode invalid UTF-8 or an unpaired surrogate escape.
            value = string.Empty;
            return false;
        }
    }

    private static bool TryValidate(ReadOnlySequence<byte> json, out string error)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            if (!reader.Read())
            {
                error = "Expected a JSON value, found nothing.";
                return false;
            }

            // The reader refuses anything after the first complete value (a JsonException).
            do
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsValidText(ref reader, out error))
                    return false;
            }
            while (reader.Read());

            error = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            error = $"Not valid JSON: {e.Message}";
            return false;
        }
    }

    /// <summary>A string or member name must be valid UTF-8, and its escapes must not leave a surrogate unpaired.</summary>
    private static bool IsValidText(ref Utf8JsonReader reader, out string error)
    {
        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        if (!Utf8.IsValid(raw))
        {
            error = $"A string at byte {reader.TokenStartIndex} is not valid UTF-8.";
            return false;
        }

        if (reader.ValueIsEscaped && HasLoneSurrogate(raw))
        {
            error = $"A string at byte {reader.TokenStartIndex} holds an unpaired surrogate escape (\\uD800–\\uDFFF alone): not valid Unicode text.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Scans the escaped (raw) text of a string for <c>\uD8xx</c> not followed by <c>\uDCxx</c>, or a low surrogate alone.</summary>
    internal static bool HasLoneSurrogate(ReadOnlySpan<byte> raw)
    {
        var pendingHigh = false;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                if (pendingHigh)
                    return true;
                continue;
            }

            // The reader validated every escape already: '\' is followed by one letter, 'u' by 4 hex digits.
            var kind = raw[i + 1];
            if (kind != (byte)'u')
            {
                if (pendingHigh)
                    return true;
                i++;
                continue;
            }

            var unit = Hex(raw.Slice(i + 2, 4));
            i += 5;
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (pendingHigh)
                    return true;
                pendingHigh = true;
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                if (!pendingHigh)
                    return true;
                pendingHigh = false;
            }
            else if (pendingHigh)
            {
                return true;
            }
        }

        return pendingHigh;
    }

    private static int Hex(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var digit in digits)
            value = (value << 4) | (digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10);
        return value;
    }

    private static long CompactLength(ReadOnlySequence<byte> json)
    {
        long length = 0;
        var inString = false;
        var escaped = false;
        foreach (var segment in json)
        {
            foreach (var b in segment.Span)
            {
                if (Keep(b, ref inString, ref escaped))
                    length++;
            }
        }

        return length;
    }

    private static void CopyCompact(ReadOnlySequence<byte> json, Span<byte> destination)
    {
        var written = 0;
        var inString = false;
        var escaped = false;
        foreach (var segment in json)
        {
            foreach (var b in segment.Span)
            {
                if (Keep(b, ref inString, ref escaped))
                    destination[written++] = b;
            }
        }
    }

    /// <summary>Whether a byte of valid JSON text is significant: JSON's four whitespace bytes are insignificant outside strings.</summary>
    private static bool Keep(byte b, ref bool inString, ref bool escaped)
    {
        if (inString)
        {
            if (escaped)
                escaped = false;
            else if (b == (byte)'\\')
                escaped = true;
            else if (b == (byte)'"')
                inString = false;
            return true;
        }

        if (b == (byte)'"')
        {
            inString = true;
            return true;
        }

        return b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n');
    }
}
