using Herald.Engine;
using Herald.Http;
using Herald.Http.OpenApi;
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
        var v1 = endpoints.MapGroup("/v1").WithTags("Channels").RequireCors(HeraldCors.PolicyName);

        v1.MapPost("/channels/{channel}/messages", PublishEndpoint.HandleAsync)
            .WithName("Publish")
            .WithSummary("Append one publication to a channel")
            .Accepts<PublishBody>("application/json")
            .Produces<PublishResponse>(StatusCodes.Status201Created)
            .Produces<PublishResponse>(StatusCodes.Status200OK)
            .WithHeader("Idempotency-Key", "1-128 printable ASCII characters: a retry with a key used on this channel within Herald:IdempotencyWindow appends nothing and answers the original position (200).")
            .WithResponseHeader(StatusCodes.Status200OK, "Idempotent-Replayed", "'true': the Idempotency-Key was used already; this is the original position.")
            .WithResponseHeader(StatusCodes.Status503ServiceUnavailable, "Retry-After", "Seconds to wait before retrying (with the same Idempotency-Key).", ParameterType.Integer)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/channels/{channel}/messages", HistoryEndpoint.HandleAsync)
            .WithName("History")
            .WithSummary("Read a channel's history (short polling, ETag/304)")
            .Produces<HistoryResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden)
            .WithQuery("after", "Only publications with a greater offset.", ParameterType.Integer, minimum: 0, defaultValue: "0")
            .WithQuery("limit", "At most this many, 1 to Herald:MaxHistoryLimit (1000).", ParameterType.Integer, minimum: 1, defaultValue: "100")
            .WithQuery("reverse", "true: the newest limit publications after after, newest first.", ParameterType.Boolean, defaultValue: "false")
            .WithQuery("view", "raw: the log as it is. latest: the messages only (after, limit and reverse page over them), each with its edits, delete, reactions and thread summary folded in (version, editedAt, deleted, reactions, thread).", defaultValue: "raw", values: ["raw", "latest"])
            .WithHeader("If-None-Match", "The ETag of an earlier answer: 304 with no body while the channel's log is unchanged.")
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", "\"<epoch>-<first>-<top>\" (view=latest: \"<epoch>-<first>-<top>-latest\"): changes exactly when the channel's log does.")
            .WithResponseHeader(StatusCodes.Status304NotModified, "ETag", "The unchanged ETag.")
            .WithAuth(ApiAuth.Policy);

        v1.MapPost("/channels/{channel}/signals", SignalEndpoint.HandleAsync)
            .WithName("Signal")
            .WithSummary("Send a signal (an ephemeral client event) to a channel's current subscribers")
            .Accepts<SignalBody>("application/json")
            .Produces<SignalResponse>(StatusCodes.Status202Accepted)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable);

        v1.MapPost("/channels/{channel}/typing", TypingEndpoint.HandleAsync)
            .WithName("Typing")
            .WithSummary("Say the user is typing on a channel (start or refresh), or stopped")
            .Accepts<TypingBody>("application/json")
            .Produces<TypingResponse>(StatusCodes.Status202Accepted)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/channels/{channel}/presence", PresenceEndpoint.ListAsync)
            .WithName("Presence")
            .WithSummary("Who is present on a channel, one page ordered by user id")
            .Produces<PresenceListResponse>(StatusCodes.Status200OK)
            .WithQuery("after", "The 'next' of the previous page: users after this id.", ParameterType.String)
            .WithQuery("limit", "At most this many members, 1 to the namespace's PresenceListLimit (1000).", ParameterType.Integer, minimum: 1, defaultValue: "200")
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/channels/{channel}/presence/count", PresenceEndpoint.CountAsync)
            .WithName("PresenceCount")
            .WithSummary("How many users and connections are present on a channel")
            .Produces<PresenceCountResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/presence/online", PresenceEndpoint.OnlineAsync)
            .WithName("PresenceOnline")
            .WithSummary("Which of a list of users has a connection open on any channel with presence (API keys only)")
            .Produces<PresenceOnlineResponse>(StatusCodes.Status200OK)
            .WithQuery("user", "A user id (sub); repeat for up to 100 users.", ParameterType.String)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);

        v1.MapPost("/direct", DirectEndpoint.HandleAsync)
            .WithName("DirectChannel")
            .WithSummary("The canonical direct channel of a set of users")
            .Accepts<DirectRequest>("application/json")
            .Produces<DirectResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);

        endpoints.MapGet("/healthz", () => TypedResults.Json(new HealthResponse("ok"), ApiJsonContext.Default.HealthResponse))
            .WithTags("Health")
            .WithName("Health")
            .WithSummary("The process is up")
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.None);

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
            .WithName("Ready")
            .WithSummary("The channel store answers and the node is not shutting down")
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithAuth(ApiAuth.None);
    }
}

public sealed record HealthResponse(string Status);
