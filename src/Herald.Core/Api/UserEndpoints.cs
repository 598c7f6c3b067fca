using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>POST /v1/users/{user}/disconnect</c> and <c>POST /v1/users/{user}/unsubscribe</c>: server API
/// keys act on every open session of one user (the token's <c>sub</c>), on every node. The request
/// is handed to the broker (<see cref="UserCommands"/>) and answered <c>202</c>: each node closes or
/// unsubscribes its own sessions when the command reaches it.
/// </summary>
/// <remarks>
/// 202 without counts: a count from the node that took the request would leave out the others,
/// and collecting every node's would need a reply protocol and a list of live nodes, which Herald
/// does not keep. Each node logs its count (event 1540).
/// </remarks>
internal static class UserEndpoints
{
    /// <summary>4 KiB: the bodies are one small member; anything larger is not one of them.</summary>
    private const int MaxBodyBytes = 4 * 1024;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // No CORS: a server API key does not belong in a browser.
        var users = endpoints.MapGroup("/v1/users/{user}").WithTags("Users");

        users.MapPost("/disconnect", DisconnectAsync)
            .WithName("DisconnectUser")
            .WithSummary("Close every session of a user on every node (WebSocket, SSE, HTTP streaming)")
            .WithDescription("WebSocket: close code 3503 'force disconnect' (do not reconnect), or 3021 'force reconnect' with \"reconnect\": true; SSE and streaming: a final disconnect message with that code. The user's token stays valid: revoke it or let it expire to keep them out. docs/protocol.md#server-side-disconnect-and-unsubscribe")
            .Accepts<UserDisconnectRequest>("application/json")
            .Produces<UserDisconnectResponse>(StatusCodes.Status202Accepted)
            .WithAuth(ApiAuth.ServerKey)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

        users.MapPost("/unsubscribe", UnsubscribeAsync)
            .WithName("UnsubscribeUser")
            .WithSummary("Unsubscribe every session of a user from a channel on every node; the connections stay open")
            .WithDescription("Each session subscribed to the channel receives an 'unsubscribed' message (reason 'server unsubscribe') and nothing more of the channel. docs/protocol.md#server-side-disconnect-and-unsubscribe")
            .Accepts<UserUnsubscribeRequest>("application/json")
            .Produces<UserUnsubscribeResponse>(StatusCodes.Status202Accepted)
            .WithAuth(ApiAuth.ServerKey)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> DisconnectAsync(string user, HttpContext context, Authenticator authenticator, UserCommands commands)
    {
        if (await CheckAsync(user, context, authenticator, "disconnect users") is { } refused)
            return refused;

        // No body, or an empty one: the defaults.
        var (body, problem) = await ReadAsync(context, required: false);
        if (problem is not null)
            return problem;

        var reconnect = false;
        if (body is not null)
        {
            if (!TryParse(body, UserJsonContext.Default.UserDisconnectRequest, out var request) || request is null)
                return Problems.InvalidBody("The body is empty or {\"reconnect\": true|false}.");
            reconnect = request.Reconnect ?? false;
        }

        await commands.SendAsync(new UserCommand(UserCommandKind.Disconnect, user, Reconnect: reconnect), context.RequestAborted);
        return TypedResults.Json(new UserDisconnectResponse(user, reconnect), UserJsonContext.Default.UserDisconnectResponse, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> UnsubscribeAsync(string user, HttpContext context, Authenticator authenticator, UserCommands commands, IOptions<HeraldOptions> options)
    {
        if (await CheckAsync(user, context, authenticator, "unsubscribe users") is { } refused)
            return refused;

        var (body, problem) = await ReadAsync(context, required: true);
        if (problem is not null)
            return problem;
        if (!TryParse(body!, UserJsonContext.Default.UserUnsubscribeRequest, out var request) || request?.Channel is not { } channel)
            return Problems.InvalidBody("The body is {\"channel\": \"namespace:name\"}.");
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);

        // A direct channel spelled other than canonically cannot have subscribers: say which name can.
        if (ChannelAccess.Check(options.Value, channel, Caller.Server, ChannelOperation.Subscribe) is { } denial)
            return Problems.From(denial);

        await commands.SendAsync(new UserCommand(UserCommandKind.Unsubscribe, user, channel), context.RequestAborted);
        return TypedResults.Json(new UserUnsubscribeResponse(user, channel), UserJsonContext.Default.UserUnsubscribeResponse, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>Server API keys only, and a user id a token's <c>sub</c> could be.</summary>
    private static async Task<IResult?> CheckAsync(string user, HttpContext context, Authenticator authenticator, string action)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (AccessCheck.Check(Access.ServerOnly, caller, action) is { } refused)
            return refused;
        if (user.Length > DirectChannel.MaxMemberIdLength || user.Any(char.IsControl))
        {
            return Problems.Make(400, "invalid_user", "Invalid user id",
                $"A user id (the token's 'sub', percent-encoded in the path) is 1 to {DirectChannel.MaxMemberIdLength} characters, none of them a control character.");
        }

        return null;
    }

    /// <summary>The body's bytes, null when there is none; or the problem to answer.</summary>
    private static async Task<(byte[]? Body, IResult? Problem)> ReadAsync(HttpContext context, bool required)
    {
        var (bytes, read) = await RequestBody.ReadArrayAsync(context, MaxBodyBytes);
        if (read.Status == BodyStatus.TooLarge)
            return (null, Problems.Make(413, "message_too_large", "Request too large", $"The body is larger than {MaxBodyBytes} bytes."));
        if (bytes is null)
            return (null, RequestBody.Unreadable(read));
        if (bytes.Length == 0)
            return (null, required ? Problems.InvalidBody("A body is required: {\"channel\": \"namespace:name\"} (Content-Type: application/json).") : null);
        if (!RequestBody.IsJson(context.Request.ContentType))
            return (null, Problems.UnsupportedMediaType(context.Request.ContentType));
        return (bytes, null);
    }

    private static bool TryParse<T>(byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, out T? value)
    {
        try
        {
            value = JsonSerializer.Deserialize(body, type);
            return true;
        }
        catch (JsonException)
        {
            value = default;
            return false;
        }
    }
}

/// <summary>The body of <c>POST /v1/users/{user}/disconnect</c> (optional): <c>reconnect</c> true sends 3021 (reconnect) instead of 3503 (do not).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UserDisconnectRequest(bool? Reconnect);

/// <summary>The body of <c>POST /v1/users/{user}/unsubscribe</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UserUnsubscribeRequest(string? Channel);

/// <summary>The disconnect was handed to every node.</summary>
public sealed record UserDisconnectResponse(string User, bool Reconnect);

/// <summary>The unsubscribe was handed to every node.</summary>
public sealed record UserUnsubscribeResponse(string User, string Channel);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserDisconnectRequest))]
[JsonSerializable(typeof(UserUnsubscribeRequest))]
[JsonSerializable(typeof(UserDisconnectResponse))]
[JsonSerializable(typeof(UserUnsubscribeResponse))]
internal sealed partial class UserJsonContext : JsonSerializerContext;
