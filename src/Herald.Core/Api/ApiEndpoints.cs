using Herald.Engine;
using Herald.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Herald.Api;

/// <summary>The HTTP API proper: publish, history (short polling), health and readiness.</summary>
internal static class ApiEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("Channels");

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
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/channels/{channel}/messages", HistoryEndpoint.HandleAsync)
            .WithName("History")
            .WithSummary("Read a channel's history (short polling, ETag/304)")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        endpoints.MapGet("/healthz", () => TypedResults.Json(new HealthResponse("ok"), ApiJsonContext.Default.HealthResponse))
            .WithTags("Health")
            .WithSummary("The process is up");

        endpoints.MapGet("/readyz", async (IChannelLog log, IHostApplicationLifetime lifetime, CancellationToken cancellationToken) =>
            {
                // A draining node answers 503 at once, so a load balancer stops sending it new
                // clients while it finishes the ones it has.
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                    return Problems.Unavailable("The node is shutting down.");

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
                    ? TypedResults.Json(new HealthResponse("ready"), ApiJsonContext.Default.HealthResponse)
                    : Problems.Unavailable("The channel store does not answer.");
            })
            .WithTags("Health")
            .WithSummary("The channel store answers");
    }
}

public sealed record HealthResponse(string Status);

/// <summary>The publish body, for the OpenAPI document (parsing is done by hand to keep data raw).</summary>
public sealed record PublishBodyDocument(System.Text.Json.JsonElement Data, string? Type);
