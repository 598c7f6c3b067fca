using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Http;

/// <summary>
/// Herald's own limit on the request target (path and query), answered with a problem document:
/// Kestrel's <c>MaxRequestLineSize</c> answers a bare <c>414</c> with no body, so the host raises it
/// (to 64 KiB, or this limit + 1 KiB) and this middleware refuses at <see cref="HeraldOptions.MaxRequestTargetBytes"/>.
/// </summary>
public static class RequestTargetLimit
{
    /// <summary>Kestrel's request-line limit that leaves Herald's own limit to answer.</summary>
    public static int KestrelRequestLineSize(int maxRequestTargetBytes) => Math.Max(64 * 1024, maxRequestTargetBytes + 1024);

    /// <summary>Refuses requests whose target is longer than <c>Herald:MaxRequestTargetBytes</c> with <c>414 uri_too_long</c>.</summary>
    public static IApplicationBuilder UseHeraldRequestLimits(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limit = app.ApplicationServices.GetRequiredService<IOptions<HeraldOptions>>().Value.MaxRequestTargetBytes;
        return app.Use((context, next) =>
        {
            var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
            if (target.Length <= limit)
                return next(context);
            return Problems.Make(414, "uri_too_long", "URI too long",
                    $"The request target (path and query) is {target.Length} bytes, more than Herald:MaxRequestTargetBytes ({limit}); send large values in a body or a header.")
                .ExecuteAsync(context);
        });
    }
}
