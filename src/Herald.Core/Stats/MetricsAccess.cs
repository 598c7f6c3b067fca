using Herald.Auth;
using Herald.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Stats;

/// <summary>The gate in front of the Prometheus scraping endpoint: <c>Herald:Metrics</c>'s switch and access rule.</summary>
public static class MetricsAccess
{
    /// <summary>Lets the request through to the exporter, or answers it: 404 while <c>Prometheus</c> is off, 401/403 per <c>Access</c>.</summary>
    public static async Task GateAsync(HttpContext context, Func<Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var settings = context.RequestServices.GetRequiredService<IOptions<HeraldOptions>>().Value.Metrics;
        if (!settings.Prometheus)
        {
            await Problems.Make(404, "not_found", "Not Found", "The Prometheus endpoint is off (Herald:Metrics:Prometheus).").ExecuteAsync(context);
            return;
        }

        var caller = await context.RequestServices.GetRequiredService<Authenticator>().IdentifyAsync(context.Request);
        if (AccessCheck.Check(settings.Access, caller, "read the metrics") is { } denied)
        {
            await denied.ExecuteAsync(context);
            return;
        }

        await next();
    }
}
