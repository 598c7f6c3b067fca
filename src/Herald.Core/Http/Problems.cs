using Microsoft.AspNetCore.Http;

namespace Herald.Http;

/// <summary>
/// Every error Herald answers over HTTP: an RFC 9457 problem document whose <c>code</c> is a
/// stable, documented string (see docs/protocol.md) that clients may switch on.
/// </summary>
internal static class Problems
{
    /// <summary>The <c>type</c> of every problem document: the error table of the protocol.</summary>
    public const string TypeUri = "https://github.com/herald/herald/blob/main/docs/protocol.md#errors";

    public static IResult InvalidChannel(string detail) => Make(400, "invalid_channel", "Invalid channel name", detail);

    public static IResult InvalidBody(string detail) => Make(400, "invalid_body", "Invalid request body", detail);

    public static IResult InvalidQuery(string detail) => Make(400, "invalid_query", "Invalid query parameter", detail);

    public static IResult InvalidCursor(string detail) => Make(400, "invalid_cursor", "Invalid cursor", detail);

    public static IResult TooManyPolls(int retryAfterSeconds, string detail) =>
        Make(429, "too_many_polls", "Too many held polls", detail + $" Retry after {retryAfterSeconds} s.");

    public static IResult InvalidHeader(string detail) => Make(400, "invalid_header", "Invalid request header", detail);

    public static IResult Unauthorized(string detail) => Make(401, "unauthorized", "Credentials required", detail);

    public static IResult Forbidden(string detail) => Make(403, "forbidden", "Not allowed", detail);

    public static IResult TooLarge(int limit) =>
        Make(413, "message_too_large", "Message too large", $"The request body is larger than this namespace's limit of {limit} bytes.");

    public static IResult UnsupportedMediaType(string? contentType) =>
        Make(415, "unsupported_media_type", "Unsupported media type", $"Expected 'application/json', got '{contentType ?? "(none)"}'.");

    public static IResult EngineUnavailable(string detail) =>
        Make(503, "engine_unavailable", "Engine unavailable", detail + " Nothing was stored; retry (with the same Idempotency-Key) after Retry-After.");

    /// <summary>A refused publish, as every HTTP entry point of the publish service answers it.</summary>
    public static IResult ForPublish(Publishing.PublishError error, string detail) => error switch
    {
        Publishing.PublishError.InvalidChannel => InvalidChannel(detail),
        Publishing.PublishError.Unauthorized => Unauthorized(detail),
        Publishing.PublishError.Forbidden => Forbidden(detail),
        Publishing.PublishError.InvalidIdempotencyKey => InvalidHeader(detail),
        Publishing.PublishError.IdempotencyKeyReused => Make(422, "idempotency_key_reused", "Idempotency key reused", detail),
        Publishing.PublishError.EngineUnavailable => EngineUnavailable(detail),
        Publishing.PublishError.TooLarge => Make(413, "message_too_large", "Message too large", detail),
        Publishing.PublishError.InvalidMentions => Make(400, "invalid_mentions", "Invalid mentions", detail),
        _ when Publishing.ActionErrors.Of(error) is { } action => Make(action.Status, action.Code, action.Title, detail),
        _ => InvalidBody(detail),
    };

    public static IResult Unavailable(string detail) => Make(503, "unavailable", "Service unavailable", detail);

    public static IResult From(Auth.Denial denial) => denial switch
    {
        { Canonical: { } canonical } => TypedResults.Problem(
            statusCode: denial.Status,
            title: "Not the canonical channel name",
            detail: denial.Message,
            type: TypeUri,
            extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = denial.Code, ["canonical"] = canonical }),
        { Status: 400 } => InvalidChannel(denial.Message),
        _ => Make(denial.Status, denial.Code, denial.Status == 401 ? "Credentials required" : "Not allowed", denial.Message),
    };

    public static IResult Make(int status, string code, string title, string detail) =>
        TypedResults.Problem(
            statusCode: status,
            title: title,
            detail: detail,
            type: TypeUri,
            extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code });
}
