using Microsoft.AspNetCore.Http;

namespace Herald.Http;

/// <summary>
/// Gives the problem documents the framework writes itself (unknown route, wrong method, wrong
/// content type, unhandled exception) the same stable <c>code</c> and a readable <c>detail</c>
/// as Herald's own errors.
/// </summary>
internal static class ProblemDefaults
{
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var (code, detail) = problem.Status switch
        {
            400 => ("bad_request", "The request is malformed."),
            404 => ("not_found", "There is no such endpoint; see docs/protocol.md."),
            405 => ("method_not_allowed", "This endpoint does not accept this HTTP method."),
            413 => ("message_too_large", "The request body is too large."),
            415 => ("unsupported_media_type", $"Expected 'application/json', got '{context.HttpContext.Request.ContentType ?? "(none)"}'."),
            500 => ("internal_error", "The server failed to handle the request; it has been logged."),
            _ => ("error", "The request failed."),
        };
        problem.Extensions.TryAdd("code", code);
        problem.Detail ??= detail;
    }
}
