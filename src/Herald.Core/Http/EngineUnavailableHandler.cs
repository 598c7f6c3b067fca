using System.Globalization;
using Herald.Engine;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Herald.Http;

/// <summary>
/// Any request that needs the engine while it cannot be reached — a history read, a poll, an SSE
/// or stream resume, a webhook API call — answers <c>503 engine_unavailable</c> with
/// <c>Retry-After</c>, as a refused publish does, instead of a 500 (docs/protocol.md, errors).
/// A response already started (a stream) cannot change its status; the handler leaves those.
/// </summary>
internal sealed class EngineUnavailableHandler : IExceptionHandler
{
    /// <summary>Seconds a client waits before it retries.</summary>
    public const int RetryAfterSeconds = 1;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not EngineUnavailableException unavailable || httpContext.Response.HasStarted)
            return false;

        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await Problems.Make(503, "engine_unavailable", "Engine unavailable", unavailable.Message + " Retry after Retry-After.")
            .ExecuteAsync(httpContext).ConfigureAwait(false);
        return true;
    }
}
