using System.Buffers;
using System.Globalization;
using Herald.Auth;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Transports.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Stats;

/// <summary>
/// <c>GET /v1/stats</c> (one JSON snapshot) and <c>GET /v1/stats/stream</c> (Server-Sent Events,
/// one <c>stats</c> event per interval): what the dashboard shows. Contract: docs/protocol.md.
/// </summary>
internal static class StatsEndpoint
{
    /// <summary>5 s: a dashboard slot frees when someone closes a tab; retrying sooner mostly meets the same refusal.</summary>
    public const int RetryAfterSeconds = 5;

    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton<StatsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<StatsSampler>());
        services.AddMetrics();
        services.AddHostedService<NodeGauges>();
    }

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/stats", GetAsync)
            .WithTags("Stats")
            .WithName("Stats")
            .WithSummary("This node's connections per transport, rates, totals and busiest channels")
            .Produces<StatsSnapshot>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithAuth(ApiAuth.Policy);

        endpoints.MapGet("/v1/stats/stream", StreamAsync)
            .WithTags("Stats")
            .WithName("StatsStream")
            .WithSummary("The same snapshot as Server-Sent Events, one 'stats' event per Herald:Stats:Interval")
            .Produces<string>(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds to wait before opening a stream again.", ParameterType.Integer)
            .WithAuth(ApiAuth.Policy);
    }

    private static async Task<IResult> GetAsync(HttpContext context, StatsSampler sampler, Authenticator authenticator)
    {
        if (await CheckAccessAsync(context, sampler, authenticator) is { } denied)
            return denied;
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Json(sampler.Snapshot(), StatsJsonContext.Default.StatsSnapshot);
    }

    private static async Task<IResult> StreamAsync(
        HttpContext context,
        StatsSampler sampler,
        Authenticator authenticator,
        IOptions<HeraldOptions> options,
        IHostApplicationLifetime lifetime)
    {
        if (await CheckAccessAsync(context, sampler, authenticator) is { } denied)
            return denied;
        if (!sampler.TryOpenStream())
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Problems.Make(
                429,
                "too_many_streams",
                "Too many stats streams",
                $"This node already serves {sampler.Options.MaxStreams} stats streams (Herald:Stats:MaxStreams). Retry after {RetryAfterSeconds} s.");
        }

        // The node stopping ends the stream at once, so Kestrel's drain does not wait for it.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            SseTransport.PrepareEventStream(context.Response);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            var output = context.Response.BodyWriter;
            SseTransport.WriteRetry(output, options.Value.Transports.SseRetryMilliseconds);
            var snapshot = sampler.SnapshotUtf8();
            while (true)
            {
                output.Write("event: stats\ndata: "u8);
                output.Write(snapshot);
                output.Write("\n\n"u8);
                // Not cancelled: Kestrel aborts the connection when a flush is, and a stopping node
                // ends the stream with its last event whole.
                await output.FlushAsync(CancellationToken.None);
                snapshot = await sampler.NextAsync(ended.Token);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            return Results.Empty;
        }
        finally
        {
            sampler.CloseStream();
        }
    }

    private static async ValueTask<IResult?> CheckAccessAsync(HttpContext context, StatsSampler sampler, Authenticator authenticator) =>
        AccessCheck.Check(sampler.Options.Access, await authenticator.IdentifyAsync(context.Request), "read the stats");
}
