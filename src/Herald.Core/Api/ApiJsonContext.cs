using System.Text.Json.Serialization;

namespace Herald.Api;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PublishResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(DirectRequest))]
[JsonSerializable(typeof(DirectResponse))]
[JsonSerializable(typeof(SignalResponse))]
[JsonSerializable(typeof(PresenceListResponse))]
[JsonSerializable(typeof(TypingResponse))]
[JsonSerializable(typeof(PresenceCountResponse))]
[JsonSerializable(typeof(PresenceOnlineResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
