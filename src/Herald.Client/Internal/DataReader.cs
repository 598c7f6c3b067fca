using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Herald.Client.Internal;

/// <summary>Turns a publication's raw <c>data</c> into the subscription's type, straight from the received buffer.</summary>
internal abstract class DataReader<T>
{
    public abstract T Read(ReadOnlySpan<byte> json);

    public static DataReader<T> For(JsonTypeInfo<T> typeInfo) =>
        typeof(T) == typeof(JsonData) ? (DataReader<T>)(object)RawDataReader.Instance : new TypeInfoReader(typeInfo);

    public static DataReader<T> For(JsonSerializerOptions options) =>
        typeof(T) == typeof(JsonData) ? (DataReader<T>)(object)RawDataReader.Instance : new TypeInfoReader((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));

    private sealed class TypeInfoReader(JsonTypeInfo<T> typeInfo) : DataReader<T>
    {
        public override T Read(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, typeInfo)!;
    }
}

/// <summary>Keeps data as the server sent it: one copy of its bytes.</summary>
internal sealed class RawDataReader : DataReader<JsonData>
{
    public static readonly RawDataReader Instance = new();

    public override JsonData Read(ReadOnlySpan<byte> json) => new(json.ToArray());
}
