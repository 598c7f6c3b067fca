using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.IntegrationTests.Client;

/// <summary>A test message: a number.</summary>
public sealed record Line(int N);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Line))]
internal sealed partial class ChatJson : JsonSerializerContext;
