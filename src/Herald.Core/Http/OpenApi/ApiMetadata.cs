using Microsoft.AspNetCore.Builder;

namespace Herald.Http.OpenApi;

/// <summary>Where a documented parameter travels.</summary>
public enum ParameterPlace
{
    Query,
    Header,
}

/// <summary>The JSON type of a documented parameter or header.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The members name JSON Schema types, not CLR ones.")]
public enum ParameterType
{
    String,
    Integer,
    Boolean,
}

/// <summary>
/// A query parameter or request header an endpoint reads by hand (so the framework cannot see it),
/// for the OpenAPI document. <see cref="HeraldOpenApi"/> turns it into a parameter.
/// </summary>
public sealed record ApiParameter(
    string Name,
    ParameterPlace Place,
    string Description,
    ParameterType Type = ParameterType.String,
    bool Required = false,
    bool Repeated = false,
    long? Minimum = null,
    long? Maximum = null,
    string? Default = null,
    IReadOnlyList<string>? Values = null);

/// <summary>A response header of one status, for the OpenAPI document.</summary>
public sealed record ApiResponseHeader(int Status, string Name, string Description, ParameterType Type = ParameterType.String);

/// <summary>A request body the endpoint reads raw, documented without an Accepts constraint (which routing would enforce).</summary>
public sealed record ApiRequestBody(string Description, IReadOnlyList<string> ContentTypes);

/// <summary>Who may call an endpoint, as the OpenAPI document's security requirements say it.</summary>
public enum ApiAuth
{
    /// <summary>Anonymous, or any credentials: the namespace's (or setting's) policy decides.</summary>
    Policy,

    /// <summary>A server API key only.</summary>
    ServerKey,

    /// <summary>No credentials are read (health, inbound webhooks verified by signature).</summary>
    None,
}

/// <summary>An endpoint mapped as a bare request delegate (the framework describes none): its whole operation.</summary>
public sealed record ApiManualOperation(string OperationId, string Summary, string Tag, string Description, IReadOnlyList<ApiManualResponse> Responses);

/// <param name="Schema">A component schema name, or null.</param>
public sealed record ApiManualResponse(int Status, string Description, string? ContentType = null, string? Schema = null);

/// <summary>Attaching the metadata above to an endpoint.</summary>
public static class ApiMetadataExtensions
{
    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, string name, string description, ParameterType type = ParameterType.String, bool required = false, bool repeated = false, long? minimum = null, long? maximum = null, string? defaultValue = null, IReadOnlyList<string>? values = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiParameter(name, ParameterPlace.Query, description, type, required, repeated, minimum, maximum, defaultValue, values));

    public static TBuilder WithHeader<TBuilder>(this TBuilder builder, string name, string description, bool required = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiParameter(name, ParameterPlace.Header, description, Required: required));

    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, int status, string name, string description, ParameterType type = ParameterType.String)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiResponseHeader(status, name, description, type));

    /// <summary>A problem document (<c>application/problem+json</c>) for each of <paramref name="statuses"/>.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
            Microsoft.AspNetCore.Http.OpenApiRouteHandlerBuilderExtensions.ProducesProblem(builder, status);
        return builder;
    }

    public static TBuilder WithAuth<TBuilder>(this TBuilder builder, ApiAuth auth)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(auth);

    /// <summary>
    /// The parameters of the subscription transports: <c>channel</c> (repeated), the cursor's three
    /// spellings, and presence and typing (docs/protocol.md, "Presence" and "Typing").
    /// </summary>
    public static TBuilder WithSubscriptionParameters<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder
            .WithQuery("channel", "A channel to follow (namespace:name); repeat for several, at most Herald:Transports:MaxChannelsPerConnection (64).", required: true, repeated: true)
            .WithQuery("cursor", "Resume from this cursor (the last one received); it may name only requested channels.")
            .WithQuery("lastEventId", "The same as cursor, for clients that cannot set Last-Event-ID (a new EventSource after a reload).")
            .WithHeader("Last-Event-ID", "The same as cursor, as EventSource sends it when it reconnects.")
            .WithQuery("presence", "What presence to receive for the channels whose namespace has presence on: off, enter (be counted and listed, receive nothing), count, or list, for every channel of the request. Default: enter where the namespace has presence (Herald:Namespaces:<ns>:Presence, the most a subscription may ask for).")
            .WithQuery("presenceSince", "With presence=list: resume a channel's presence list from the last diff received, as <epoch>.<seq>.<channel>; repeat per channel.", repeated: true)
            .WithQuery("typing", "Polls: the typing set last received per channel, as <tag>.<channel> (0 for none); the answer carries the set when it changed. Repeat per channel. SSE and streaming push typing as it changes and ignore it.", repeated: true);
}
