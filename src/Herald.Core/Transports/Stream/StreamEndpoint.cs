using Herald.Http.OpenApi;
using Herald.Transports.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.Stream;

/// <summary><c>GET /v1/stream?channel=..</c>: HTTP streaming of NDJSON lines, resumable with <c>?cursor=</c> (docs/protocol.md).</summary>
internal static class StreamEndpoint
{
    public static void AddServices(IServiceCollection services) => PushHost.AddServices(services);

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/stream", HandleAsync)
            .WithTags("Push")
            .RequireCors(HeraldCors.PolicyName)
            .WithName("Stream")
            .WithSummary("Subscribe to channels as a chunked NDJSON stream (resume with ?cursor=)")
            .WithDescription("One JSON object per line, each with a type: 'subscribed', 'publication' (with the connection's cursor), 'heartbeat', 'disconnect'. Resume with ?cursor=. docs/protocol.md#http-streaming-ndjson-framing")
            .Produces<string>(StatusCodes.Status200OK, contentType: "application/x-ndjson")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSubscriptionParameters()
            .WithAuth(ApiAuth.Policy);

    private static Task<IResult> HandleAsync(HttpContext context, PushHost host) =>
        host.RunAsync(context, (ctx, cursor) => new StreamTransport(ctx, cursor));
}
