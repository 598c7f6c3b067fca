using System.Text.Json.Serialization;
using Herald.Http;

namespace Herald;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PublishResponse))]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HeraldJsonContext : JsonSerializerContext;
