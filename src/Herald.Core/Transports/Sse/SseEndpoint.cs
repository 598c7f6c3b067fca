using Herald.Http.OpenApi;
using Herald.Transports.Push;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.Sse;

/// <summary><c>GET /v1/sse?channel=..</c>: Server-Sent Events, resumable with <c>Last-Event-ID</c> (docs/protocol.md).</summary>
internal static class SseEndpoint
{
    public static void AddServices(IServiceCollection services) => PushHost.AddServices(services);

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/sse", HandleAsync)
            .WithTags("Push")
            .RequireCors(HeraldCors.PolicyName)
            .WithName("ServerSentEvents")
            .WithSummary("Subscribe to channels as Server-Sent Events (resume with Last-Event-ID or ?cursor=)")
            .WithDescription("An event stream of 'subscribed', 'publication' and 'disconnect' events (each event's data is JSON, its id the cursor), ': heartbeat' comments while idle. Resume with Last-Event-ID. docs/protocol.md#server-sent-events--get-v1sse--and-http-streaming--get-v1stream")
            .Produces<string>(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSubscriptionParameters()
            .WithAuth(ApiAuth.Policy);

    private static Task<IResult> HandleAsync(HttpContext context, PushHost host) =>
        host.RunAsync(context, (ctx, cursor) => new SseTransport(ctx, cursor, host.Options.Transports));
}
