using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.ClientBench;

/// <summary>The application's message type: what a chat app would declare.</summary>
public sealed record ChatLine(string Text, long N);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ChatLine))]
internal sealed partial class BenchJson : JsonSerializerContext;
