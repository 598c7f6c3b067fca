using Herald.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Cors;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Herald;

/// <summary>
/// CORS for the HTTP API, with ASP.NET Core's CORS middleware: the endpoints a page on another
/// origin uses — publish, history, <c>/v1/sse</c>, <c>/v1/stream</c>, <c>/v1/poll</c> — carry the
/// <see cref="PolicyName"/> policy, built from <see cref="Http.CorsOptions"/>. No credentials mode:
/// Herald reads no cookies, credentials travel as <c>Authorization</c> or <c>?token=</c>.
/// </summary>
public static class HeraldCors
{
    public const string PolicyName = "Herald";

    /// <summary>Every request header a Herald client sends (EventSource's own <c>Last-Event-ID</c> included).</summary>
    internal static readonly string[] AllowedHeaders =
        [HeaderNames.Authorization, HeaderNames.ContentType, "Idempotency-Key", "Last-Event-ID", "X-Api-Key", HeaderNames.IfNoneMatch];

    /// <summary>The response headers a client reads: short polling's ETag, a 429's wait, a publish repeat.</summary>
    internal static readonly string[] ExposedHeaders = [HeaderNames.ETag, HeaderNames.RetryAfter, "Idempotent-Replayed"];

    internal static void AddServices(IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<HeraldOptions>>((cors, herald) => cors.AddPolicy(PolicyName, Policy(herald.Value)));
    }

    internal static CorsPolicy Policy(HeraldOptions options)
    {
        var origins = options.Cors.EffectiveOrigins(options.Transports.AllowedOrigins);
        var policy = new CorsPolicyBuilder()
            .WithMethods(HttpMethods.Get, HttpMethods.Post)
            .WithHeaders(AllowedHeaders)
            .WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(options.Cors.PreflightMaxAge);
        if (origins.Contains("*"))
            policy.AllowAnyOrigin();
        else
            policy.WithOrigins([.. origins]);
        return policy.Build();
    }

    /// <summary>
    /// The CORS middleware, preceded by a clear refusal: a preflight from an origin the policy does
    /// not allow is answered <c>403 origin_not_allowed</c> (as a refused WebSocket is) instead of the
    /// middleware's bare 204, so whoever looks at the network log reads why. Actual requests from such
    /// an origin are served without CORS headers: the browser keeps the answer from the page.
    /// </summary>
    public static IApplicationBuilder UseHeraldCors(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(RefuseDisallowedPreflight);
        return app.UseCors();
    }

    private static async Task RefuseDisallowedPreflight(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (HttpMethods.IsOptions(request.Method)
            && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod)
            && request.Headers.Origin.ToString() is { Length: > 0 } origin
            && context.GetEndpoint()?.Metadata.GetMetadata<IEnableCorsAttribute>()?.PolicyName == PolicyName)
        {
            var policies = context.RequestServices.GetRequiredService<ICorsPolicyProvider>();
            var policy = await policies.GetPolicyAsync(context, PolicyName).ConfigureAwait(false);
            if (policy is not null && !policy.AllowAnyOrigin && !policy.IsOriginAllowed(origin))
            {
                await Problems.Make(StatusCodes.Status403Forbidden, "origin_not_allowed", "Origin not allowed",
                        $"Pages of '{origin}' may not call this endpoint; add the origin to Herald:Cors:AllowedOrigins.")
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }
}
