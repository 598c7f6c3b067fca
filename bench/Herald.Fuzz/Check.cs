using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Herald.Fuzz;

/// <summary>Invariant checks shared by the targets.</summary>
internal static class Check
{
    public static void That(bool condition, string invariant)
    {
        if (!condition)
            throw new InvariantException(invariant);
    }

    /// <summary>
    /// Whether <paramref name="json"/> is exactly one JSON value that every client's parser reads:
    /// valid UTF-8, no byte-order mark (Utf8JsonReader skips one at the start; JSON.parse does not),
    /// and still valid when embedded in another document, as every transport embeds data.
    /// </summary>
    public static bool IsPortableJson(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json) || json.StartsWith("\uFEFF"u8))
            return false;
        var embedded = new byte[json.Length + 2];
        embedded[0] = (byte)'[';
        json.CopyTo(embedded.AsSpan(1));
        embedded[^1] = (byte)']';
        try
        {
            using var document = JsonDocument.Parse(embedded, new JsonDocumentOptions { MaxDepth = 256 });
            return document.RootElement.GetArrayLength() == 1 && !HasLoneSurrogate(document.RootElement[0]);
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public static void PortableJson(ReadOnlySpan<byte> json, string what) =>
        That(IsPortableJson(json), $"{what} is not one portable JSON value: {Show(json)}");

    /// <summary>Whether reading a string or name back yields text that is not valid UTF-16 (GetString throws on those).</summary>
    private static bool HasLoneSurrogate(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                _ = element.GetString();
                return false;
            case JsonValueKind.Array:
                return element.EnumerateArray().Any(HasLoneSurrogate);
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    if (HasLoneSurrogate(property.Value))
                        return true;
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Whether two values are the same JSON, numbers compared as written (data is stored verbatim).
    /// JsonElement.DeepEquals is not used: it throws on exponents beyond int (1E2222222222).
    /// </summary>
    public static bool SameJson(JsonElement left, JsonElement right) => Canonical(left).AsSpan().SequenceEqual(Canonical(right));

    private static byte[] Canonical(JsonElement element)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
            element.WriteTo(writer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Whether <paramref name="text"/> is valid UTF-16 (no unpaired surrogate).</summary>
    public static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }

        return true;
    }

    /// <summary>At most 200 characters of <paramref name="bytes"/>, escaped, for a crash message.</summary>
    public static string Show(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes[..Math.Min(bytes.Length, 200)])
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : $"\\x{b:x2}");
        return bytes.Length > 200 ? text + "…" : text.ToString();
    }

    /// <summary>Splits input at its first <c>'\n'</c>: the first line (decoded) and the rest.</summary>
    public static string FirstLine(ReadOnlySpan<byte> input, Encoding encoding, out ReadOnlySpan<byte> rest)
    {
        var newline = input.IndexOf((byte)'\n');
        rest = newline < 0 ? [] : input[(newline + 1)..];
        return encoding.GetString(newline < 0 ? input : input[..newline]);
    }
}
