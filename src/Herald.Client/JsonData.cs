using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Client;

/// <summary>
/// A JSON value as the server sent it: compact UTF-8, never re-encoded. What raw subscriptions,
/// <c>meta</c> and <see cref="HeraldClient.PublishAsync(string, JsonData, PublishOptions?, CancellationToken)"/> carry.
/// </summary>
public readonly struct JsonData : IEquatable<JsonData>
{
    private static readonly byte[] NullLiteral = "null"u8.ToArray();

    /// <summary>Wraps UTF-8 JSON (not copied, not validated).</summary>
    public JsonData(ReadOnlyMemory<byte> utf8) => Utf8 = utf8;

    /// <summary>The UTF-8 bytes; <c>null</c> for a default instance.</summary>
    public ReadOnlyMemory<byte> Utf8 { get; }

    /// <summary>The JSON <c>null</c>.</summary>
    public static JsonData Null => new(NullLiteral);

    /// <summary>JSON text as data (validated: it must be one JSON value).</summary>
    public static JsonData Parse(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes);
        try
        {
            reader.Read();
            reader.Skip();
            if (reader.Read())
                throw new HeraldException("bad_request", "The data is more than one JSON value.");
        }
        catch (JsonException e)
        {
            throw new HeraldException("bad_request", $"The data is not JSON: {e.Message}", null, e);
        }

        return new JsonData(bytes);
    }

    /// <summary>Serializes a value with source-generated metadata.</summary>
    public static JsonData From<T>(T value, JsonTypeInfo<T> typeInfo) => new(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    /// <summary>Deserializes with source-generated metadata.</summary>
    public T? Deserialize<T>(JsonTypeInfo<T> typeInfo) => JsonSerializer.Deserialize(Utf8.Span.IsEmpty ? NullLiteral : Utf8.Span, typeInfo);

    /// <summary>A <see cref="JsonElement"/> of its own (a copy).</summary>
    public JsonElement ToElement()
    {
        using var document = JsonDocument.Parse(Utf8.IsEmpty ? NullLiteral : Utf8);
        return document.RootElement.Clone();
    }

    /// <summary>The JSON text.</summary>
    public override string ToString() => Utf8.IsEmpty ? "null" : Encoding.UTF8.GetString(Utf8.Span);

    /// <inheritdoc />
    public bool Equals(JsonData other) => Utf8.Span.SequenceEqual(other.Utf8.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is JsonData other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var b in Utf8.Span)
            hash.Add(b);
        return hash.ToHashCode();
    }

    /// <summary>Byte-for-byte equality.</summary>
    public static bool operator ==(JsonData left, JsonData right) => left.Equals(right);

    /// <summary>Byte-for-byte inequality.</summary>
    public static bool operator !=(JsonData left, JsonData right) => !left.Equals(right);
}
