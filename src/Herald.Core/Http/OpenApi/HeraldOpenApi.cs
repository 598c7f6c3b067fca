using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Herald.Http.OpenApi;

/// <summary>
/// Completes the OpenAPI document (<c>/openapi/v1.json</c>) with what the framework cannot see in
/// endpoints that read their request by hand: query parameters and headers, response headers,
/// security, Herald's problem document with its <c>code</c>, and the endpoints mapped as bare
/// request delegates (the WebSocket upgrade, <c>/metrics</c>). Enough for a generated client.
/// </summary>
public static class HeraldOpenApi
{
    private const string Bearer = "bearer";
    private const string ApiKeyHeader = "apiKey";
    private const string TokenQuery = "token";

    /// <summary>Adds Herald's transformers: <c>services.AddOpenApi(o => o.AddHerald())</c>.</summary>
    public static OpenApiOptions AddHerald(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddSchemaTransformer((schema, _, _) =>
        {
            // The web defaults read numbers from strings too, so every integer came out as
            // "integer or string" with a pattern; Herald writes numbers, and that is what clients get.
            if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
            {
                schema.Type = type & ~JsonSchemaType.String;
                schema.Pattern = null;
            }

            // Herald never writes null: a null member is left out (WhenWritingNull), and read as
            // absent. So a nullable member is an optional one, never a required one that may be null.
            if (schema.Required is { Count: > 0 } required && schema.Properties is { } properties)
            {
                foreach (var (name, property) in properties)
                {
                    if (IsNullable(property))
                        required.Remove(name);
                }
            }

            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            Describe(operation, context.Description.ActionDescriptor.EndpointMetadata, context.Document!);
            return Task.CompletedTask;
        });
        options.AddDocumentTransformer((document, context, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Herald",
                Version = "v1",
                Description = "Real-time messaging: one ordered log per channel, read by history, polling, SSE, NDJSON streaming and WebSocket. The wire contract, with every error code, is docs/protocol.md.",
            };
            AddSecuritySchemes(document);
            DescribeProblem(document);
            AddManualOperations(document, context.ApplicationServices.GetRequiredService<EndpointDataSource>());
            return Task.CompletedTask;
        });
        return options;
    }

    /// <summary>Applies an endpoint's <see cref="ApiParameter"/>, <see cref="ApiResponseHeader"/> and <see cref="ApiAuth"/> metadata.</summary>
    private static void Describe(OpenApiOperation operation, IEnumerable<object> metadata, OpenApiDocument document)
    {
        var items = metadata.ToList();
        foreach (var parameter in items.OfType<ApiParameter>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = parameter.Name,
                In = parameter.Place == ParameterPlace.Query ? ParameterLocation.Query : ParameterLocation.Header,
                Description = parameter.Description,
                Required = parameter.Required,
                Style = parameter.Repeated ? ParameterStyle.Form : null,
                Explode = parameter.Repeated,
                Schema = parameter.Repeated ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = SchemaOf(parameter) } : SchemaOf(parameter),
            });
        }

        foreach (var header in items.OfType<ApiResponseHeader>())
        {
            if (operation.Responses?.TryGetValue(header.Status.ToString(CultureInfo.InvariantCulture), out var found) != true || found is not OpenApiResponse response)
                continue;
            response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
            response.Headers[header.Name] = new OpenApiHeader { Description = header.Description, Schema = SchemaOf(header.Type) };
        }

        if (items.OfType<ApiRequestBody>().LastOrDefault() is { } body && operation.RequestBody is null)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Description = body.Description,
                Required = true,
                Content = body.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = new OpenApiSchema() }, StringComparer.Ordinal),
            };
        }

        operation.Security = Requirements(items.OfType<ApiAuth>().LastOrDefault(), document);
    }

    private static List<OpenApiSecurityRequirement> Requirements(ApiAuth auth, OpenApiDocument document)
    {
        OpenApiSecurityRequirement Scheme(string name) => new() { [new OpenApiSecuritySchemeReference(name, document)] = [] };
        return auth switch
        {
            // The empty requirement: anonymous callers are let in where the policy allows it.
            ApiAuth.Policy => [new OpenApiSecurityRequirement(), Scheme(Bearer), Scheme(ApiKeyHeader), Scheme(TokenQuery)],
            ApiAuth.ServerKey => [Scheme(Bearer), Scheme(ApiKeyHeader)],
            _ => [],
        };
    }

    private static bool IsNullable(IOpenApiSchema schema) =>
        (schema.Type is { } type && (type & JsonSchemaType.Null) != 0)
        || (schema.OneOf?.Any(s => s.Type == JsonSchemaType.Null) ?? false);

    private static OpenApiSchema SchemaOf(ApiParameter parameter)
    {
        var schema = SchemaOf(parameter.Type);
        if (parameter.Minimum is { } minimum)
            schema.Minimum = minimum.ToString(CultureInfo.InvariantCulture);
        if (parameter.Maximum is { } maximum)
            schema.Maximum = maximum.ToString(CultureInfo.InvariantCulture);
        if (parameter.Default is { } value)
            schema.Default = parameter.Type == ParameterType.String ? JsonValue.Create(value) : JsonNode.Parse(value);
        if (parameter.Values is { } values)
            schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))];
        return schema;
    }

    private static OpenApiSchema SchemaOf(ParameterType type) => new()
    {
        Type = type switch
        {
            ParameterType.Integer => JsonSchemaType.Integer,
            ParameterType.Boolean => JsonSchemaType.Boolean,
            _ => JsonSchemaType.String,
        },
        Format = type == ParameterType.Integer ? "int64" : null,
    };

    private static void AddSecuritySchemes(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "API key or JWT",
                Description = "Authorization: Bearer with a server API key (Herald:ApiKeys, or <data>/api-key) or a user token (JWT, HS256/RS256/ES256, sub = the user).",
            },
            [ApiKeyHeader] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "A server API key.",
            },
            [TokenQuery] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Query,
                Name = "token",
                Description = "A user token (or an API key) in the query, for clients that cannot set headers (EventSource, a browser's WebSocket).",
            },
        };
    }

    /// <summary>The framework's ProblemDetails schema, as Herald writes it: every member present, and the stable <c>code</c>.</summary>
    private static void DescribeProblem(OpenApiDocument document)
    {
        if (document.Components?.Schemas?.TryGetValue("ProblemDetails", out var found) != true || found is not OpenApiSchema problem)
            return;
        problem.Description = "An RFC 9457 problem document with Herald's stable code (docs/protocol.md#errors).";
        problem.Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Stable error code to switch on: invalid_channel, unauthorized, forbidden, too_many_polls, … (docs/protocol.md#errors)." },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
        };
        problem.Required = new HashSet<string>(["type", "title", "status", "detail", "code"], StringComparer.Ordinal);
    }

    /// <summary>Endpoints mapped as request delegates carry an <see cref="ApiManualOperation"/>; the framework lists none of them.</summary>
    private static void AddManualOperations(OpenApiDocument document, EndpointDataSource endpoints)
    {
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<ApiManualOperation>() is not { } manual || endpoint.RoutePattern.RawText is not { } path)
                continue;

            var operation = new OpenApiOperation
            {
                OperationId = manual.OperationId,
                Summary = manual.Summary,
                Description = manual.Description,
                Tags = new HashSet<OpenApiTagReference> { new(manual.Tag, document) },
                Responses = [],
            };
            foreach (var response in manual.Responses)
            {
                var described = new OpenApiResponse { Description = response.Description };
                if (response.ContentType is { } contentType)
                {
                    described.Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        [contentType] = new OpenApiMediaType
                        {
                            Schema = response.Schema is { } schema ? new OpenApiSchemaReference(schema, document) : new OpenApiSchema { Type = JsonSchemaType.String },
                        },
                    };
                }

                operation.Responses[response.Status.ToString(CultureInfo.InvariantCulture)] = described;
            }

            Describe(operation, endpoint.Metadata, document);
            document.Paths ??= [];
            if (!document.Paths.TryGetValue(path, out var item))
                document.Paths[path] = item = new OpenApiPathItem();
            ((OpenApiPathItem)item).AddOperation(HttpMethod.Get, operation);
        }
    }
}
