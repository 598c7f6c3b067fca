using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Herald.IntegrationTests.OpenApi;

/// <summary>
/// The server's own OpenAPI document, used as a contract: a real answer must have a documented
/// status and media type for its operation, and its body must validate against the schema the
/// document gives there (JSON Schema 2020-12, which OpenAPI 3.1 schemas are).
/// </summary>
internal sealed class OpenApiContract(JsonObject document)
{
    public JsonObject Document => document;

    public static async Task<OpenApiContract> FetchAsync(HttpClient client)
    {
        var text = await client.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        return new OpenApiContract(JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>Every operation: (path, method, operation).</summary>
    public IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in document["paths"]!.AsObject()
        from method in path.Value!.AsObject()
        select (path.Key, method.Key, method.Value!.AsObject());

    public JsonObject Operation(string operationId) =>
        Operations().Single(o => (string?)o.Operation["operationId"] == operationId).Operation;

    /// <summary>Asserts <paramref name="response"/> is what the document says <paramref name="operationId"/> answers; returns its body.</summary>
    public async Task<JsonElement?> AssertConformsAsync(string operationId, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var documented = Operation(operationId)["responses"]?[status]?.AsObject();
        Assert.True(documented is not null, $"{operationId} answered {status}, which the document does not list");

        var body = await response.Content.ReadAsStringAsync().WaitAsync(HttpJson.Timeout);
        if (body.Length == 0)
            return null;

        var mediaType = response.Content.Headers.ContentType?.MediaType ?? string.Empty;
        var content = documented!["content"]?.AsObject();
        Assert.True(content?.ContainsKey(mediaType) == true, $"{operationId} {status} answered {mediaType}, the document says [{string.Join(", ", content?.Select(c => c.Key) ?? [])}]");
        var schema = content![mediaType]!["schema"];
        Assert.True(schema is not null, $"{operationId} {status} {mediaType} has no schema in the document");

        var json = JsonDocument.Parse(body).RootElement.Clone();
        var results = Compile(schema!).Evaluate(json, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(results.IsValid, $"{operationId} {status} does not match its schema:\n{body}\n{Describe(results)}");
        return json;
    }

    /// <summary>A standalone 2020-12 schema: the response schema, with the document's component schemas as <c>$defs</c>.</summary>
    private JsonSchema Compile(JsonNode schema)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = document["components"]!["schemas"]!.DeepClone(),
            ["allOf"] = new JsonArray(schema.DeepClone()),
        };
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        return JsonSchema.FromText(text, new BuildOptions(), new Uri("https://herald.test/openapi/" + Guid.NewGuid().ToString("N")));
    }

    private static string Describe(EvaluationResults results) =>
        string.Join("\n", Flatten(results).Where(r => !r.IsValid && r.Errors is { Count: > 0 })
            .Select(r => $"{r.InstanceLocation} ({r.EvaluationPath}): {string.Join("; ", r.Errors!.Values)}"));

    private static IEnumerable<EvaluationResults> Flatten(EvaluationResults results) =>
        [results, .. (results.Details ?? []).SelectMany(Flatten)];
}
