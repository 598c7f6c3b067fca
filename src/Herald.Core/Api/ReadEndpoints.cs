using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Reading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// Read markers and unread counts over HTTP: a user's own (<c>PUT|DELETE /v1/channels/{channel}/read</c>,
/// <c>GET /v1/me/unread</c>) and, for server API keys, any user's (<c>/v1/users/{user}/…</c>).
/// docs/protocol.md, "Read markers and unread counts".
/// </summary>
internal static class ReadEndpoints
{
    /// <summary>1 KiB: the body is three small members.</summary>
    private const int MaxBodyBytes = 1024;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("Unread").RequireCors(HeraldCors.PolicyName);
        v1.MapPut("/channels/{channel}/read", (string channel, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options) =>
                MarkAsync(null, channel, context, authenticator, unread, options))
            .WithName("MarkRead")
            .WithSummary("Set the caller's read marker on a channel (monotonic unless unread: true)")
            .WithDescription("Body (optional): {\"offset\": n (default: the top), \"epoch\": \"…\" (checked when given), \"unread\": true (move the marker back), \"private\": true (no receipt shown)}. docs/protocol.md#read-markers-and-unread-counts")
            .Accepts<MarkReadRequest>("application/json")
            .Produces<MarkReadResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

        v1.MapDelete("/channels/{channel}/read", ForgetAsync)
            .WithName("ForgetRead")
            .WithSummary("Remove a channel from the caller's unread list (its marker and mentions)")
            .Produces(StatusCodes.Status204NoContent)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/me/unread", (HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options) =>
                UnreadAsync(null, context, authenticator, unread, options))
            .WithName("Unread")
            .WithSummary("The caller's unread counts: per channel and in total")
            .Produces<UnreadResponse>(StatusCodes.Status200OK)
            .WithQuery("channels", "Comma-separated channels to answer (each is answered, read or not), at most Herald:Unread:MaxChannels (500); absent: every channel the caller has read state in.", ParameterType.String)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);

        // No CORS: a server API key does not belong in a browser.
        var users = endpoints.MapGroup("/v1/users/{user}").WithTags("Users");
        users.MapGet("/unread", (string user, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options) =>
                UnreadAsync(user, context, authenticator, unread, options))
            .WithName("UserUnread")
            .WithSummary("Any user's unread counts (server API keys)")
            .Produces<UnreadResponse>(StatusCodes.Status200OK)
            .WithQuery("channels", "Comma-separated channels to answer, at most Herald:Unread:MaxChannels (500); absent: every channel the user has read state in.", ParameterType.String)
            .WithAuth(ApiAuth.ServerKey)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);

        users.MapPut("/channels/{channel}/read", (string user, string channel, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options) =>
                MarkAsync(user, channel, context, authenticator, unread, options))
            .WithName("UserMarkRead")
            .WithSummary("Set any user's read marker on a channel (server API keys)")
            .Accepts<MarkReadRequest>("application/json")
            .Produces<MarkReadResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.ServerKey)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);
    }

    /// <param name="asUser">The user named in the path (server API keys), or null for the caller's own.</param>
    private static async Task<IResult> MarkAsync(string? asUser, string channel, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options)
    {
        var (user, refused) = await WhoAsync(asUser, context, authenticator);
        if (refused is not null)
            return refused;
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        if (asUser is null && AccessCheck.Check(options.Value, channel, await authenticator.IdentifyAsync(context.Request), ChannelOperation.Subscribe) is { } denied)
            return denied;

        var (request, invalid) = await ReadBodyAsync(context, ReadingJsonContext.Default.MarkReadRequest, new MarkReadRequest(null, null, null),
            "The body is empty or {\"offset\": n, \"epoch\": \"…\", \"unread\": true|false, \"private\": true|false}, every member optional.");
        if (invalid is not null)
            return invalid;

        var outcome = await unread.MarkAsync(user!, channel, request!.Offset, request.Epoch, request.Unread ?? false, request.Private ?? false, context.RequestAborted);
        return outcome.Error switch
        {
            MarkError.None => TypedResults.Json(new MarkReadResponse(outcome.Changed, UnreadChannelJson.From(outcome.Unread!)), ReadingJsonContext.Default.MarkReadResponse),
            _ => Refused(outcome.Error, outcome.Message),
        };
    }

    /// <summary>The answer to a marker (read or delivered) the service refused.</summary>
    internal static IResult Refused(MarkError error, string message) => error switch
    {
        MarkError.EpochMismatch => Problems.Make(409, "epoch_mismatch", "Epoch mismatch", message),
        MarkError.ReceiptsDisabled => Problems.Make(403, "receipts_disabled", "Receipts are off", message),
        _ => Problems.Make(400, "invalid_offset", "Invalid offset", message),
    };

    /// <summary>Reads an optional JSON body of at most <see cref="MaxBodyBytes"/>: <paramref name="empty"/> when there is none.</summary>
    internal static async Task<(T? Body, IResult? Problem)> ReadBodyAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, T empty, string shape)
    {
        var (bytes, read) = await RequestBody.ReadArrayAsync(context, MaxBodyBytes);
        if (read.Status == BodyStatus.TooLarge)
            return (default, Problems.Make(413, "message_too_large", "Request too large", $"The body is larger than {MaxBodyBytes} bytes."));
        if (bytes is null)
            return (default, RequestBody.Unreadable(read));
        if (bytes.Length == 0)
            return (empty, null);
        if (!RequestBody.IsJson(context.Request.ContentType))
            return (default, Problems.UnsupportedMediaType(context.Request.ContentType));
        try
        {
            return (JsonSerializer.Deserialize(bytes, type) ?? empty, null);
        }
        catch (JsonException)
        {
            return (default, Problems.InvalidBody(shape));
        }
    }

    private static async Task<IResult> ForgetAsync(string channel, HttpContext context, Authenticator authenticator, UnreadService unread)
    {
        var (user, refused) = await WhoAsync(null, context, authenticator);
        if (refused is not null)
            return refused;
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        return await unread.ForgetAsync(user!, channel, context.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.Make(404, "not_found", "No read state", $"'{user}' has no read state on '{channel}'.");
    }

    private static async Task<IResult> UnreadAsync(string? asUser, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options)
    {
        var (user, refused) = await WhoAsync(asUser, context, authenticator);
        if (refused is not null)
            return refused;

        List<string>? channels = null;
        if (context.Request.Query["channels"].ToString() is { Length: > 0 } list)
        {
            channels = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
            var max = unread.Settings.MaxChannels;
            if (channels.Count > max)
                return Problems.InvalidQuery($"'channels' may list at most {max} channels (Herald:Unread:MaxChannels).");
            var caller = asUser is null ? await authenticator.IdentifyAsync(context.Request) : Caller.Server;
            foreach (var channel in channels)
            {
                if (!ChannelName.TryValidate(channel, out var channelError))
                    return Problems.InvalidChannel($"'{channel}': {channelError}");
                if (AccessCheck.Check(options.Value, channel, caller, ChannelOperation.Subscribe) is { } denied)
                    return denied;
            }
        }

        var summary = await unread.GetUnreadAsync(user!, channels, context.RequestAborted);
        return TypedResults.Json(UnreadResponse.From(summary), ReadingJsonContext.Default.UnreadResponse);
    }

    /// <summary>The user whose read state this is: the caller (a user's token), or the one in the path for a server API key.</summary>
    internal static async Task<(string? User, IResult? Refused)> WhoAsync(string? asUser, HttpContext context, Authenticator authenticator)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (asUser is not null)
        {
            if (AccessCheck.Check(Access.ServerOnly, caller, "read other users' read state") is { } refused)
                return (null, refused);
            if (asUser.Length is 0 or > DirectChannel.MaxMemberIdLength || asUser.Any(char.IsControl))
            {
                return (null, Problems.Make(400, "invalid_user", "Invalid user id",
                    $"A user id (the token's 'sub', percent-encoded in the path) is 1 to {DirectChannel.MaxMemberIdLength} characters, none of them a control character."));
            }

            return (asUser, null);
        }

        return caller.Kind switch
        {
            CallerKind.User => (caller.User, null),
            CallerKind.Server => (null, Problems.Make(400, "user_required", "A user is required",
                "Read state belongs to a user: a server API key uses /v1/users/{user}/unread and /v1/users/{user}/channels/{channel}/read.")),
            CallerKind.Invalid => (null, Problems.Forbidden(caller.Error ?? "The credentials are not valid.")),
            _ => (null, Problems.Unauthorized("Read state belongs to a user: send a user's token.")),
        };
    }
}
