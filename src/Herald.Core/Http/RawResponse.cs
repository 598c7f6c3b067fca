using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;

namespace Herald.Http;

/// <summary>
/// A problem document written straight onto a connection, for the answers given below the HTTP
/// layer (connection refusals, the WebSocket fast path's timeouts) where no HttpContext exists.
/// Same shape and <c>code</c> as <see cref="Problems"/>; the connection closes after it.
/// </summary>
internal static class RawResponse
{
    public static async ValueTask WriteProblemAsync(PipeWriter output, int status, string reasonPhrase, string code, string title, string detail, int? retryAfterSeconds = null)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new RawProblem(Problems.TypeUri, title, status, detail, code),
            RawProblemJsonContext.Default.RawProblem);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reasonPhrase}\r\n")
            .Append("Content-Type: application/problem+json\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (retryAfterSeconds is { } retry)
            head.Append(CultureInfo.InvariantCulture, $"Retry-After: {retry}\r\n");
        head.Append("Cache-Control: no-store\r\nConnection: close\r\n\r\n");

        output.Write(Encoding.ASCII.GetBytes(head.ToString()));
        output.Write(body);
        await output.FlushAsync();
    }
}

internal sealed record RawProblem(string Type, string Title, int Status, string Detail, string Code);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RawProblem))]
internal sealed partial class RawProblemJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
