using Herald.Http;
using Herald.Log;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald;

public static class HeraldEndpoints
{
    /// <summary>Maps Herald's HTTP API: publish, history (short polling), health and readiness.</summary>
    public static IEndpointRouteBuilder MapHerald(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("Channels").RequireCors(HeraldCors.PolicyName);

        v1.MapPost("/channels/{channel}/messages", PublishEndpoint.HandleAsync)
            .WithName("Publish")
            .WithSummary("Append one publication to a channel")
            .Accepts<PublishBodyDocument>("application/json")
            .Produces<PublishResponse>(StatusCodes.Status201Created)
            .Produces<PublishResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        v1.MapGet("/channels/{channel}/messages", HistoryEndpoint.HandleAsync)
            .WithName("History")
            .WithSummary("Read a channel's history (short polling, ETag/304)")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        Transports.WebSocket.WebSocketEndpoint.Map(endpoints);
        Transports.Sse.SseEndpoint.Map(endpoints);
        Transports.Stream.StreamEndpoint.Map(endpoints);
        Transports.LongPoll.LongPollEndpoint.Map(endpoints);
        Webhooks.Inbound.InboundWebhookEndpoint.Map(endpoints);
        Stats.StatsEndpoint.Map(endpoints);
        Webhooks.Outbound.OutboundWebhooks.Map(endpoints);

        endpoints.MapGet("/healthz", () => TypedResults.Json(new HealthResponse("ok"), HeraldJsonContext.Default.HealthResponse))
            .WithTags("Health")
            .WithSummary("The process is up");

        endpoints.MapGet("/readyz", async (IChannelLog log, CancellationToken cancellationToken) =>
            {
                bool ready;
                try
                {
                    ready = await log.PingAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ready = false;
                }

                return ready
                    ? TypedResults.Json(new HealthResponse("ready"), HeraldJsonContext.Default.HealthResponse)
                    : Problems.Unavailable("The channel store does not answer.");
            })
            .WithTags("Health")
            .WithSummary("The channel store answers");

        return endpoints;
    }
}

public sealed record HealthResponse(string Status);

/// <summary>The publish body, for the OpenAPI document (parsing is done by hand to keep data raw).</summary>
public sealed record PublishBodyDocument(System.Text.Json.JsonElement Data, string? Type);
