using System.Text.Json;
using Herald.Auth;
using Herald.Engine;
using Herald.Http;
using Herald.Typing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>POST /v1/channels/{channel}/typing</c> <c>{"typing": true|false}</c>: the same as the WebSocket
/// <c>typing</c> / <c>typing_stop</c> ops, for clients on SSE, streaming or polling. The answer
/// carries the namespace's timings, so such a client resends on the same clock as the others.
/// </summary>
internal static class TypingEndpoint
{
    private const int MaxBodyBytes = 1024;

    public static async Task<IResult> HandleAsync(string channel, HttpContext context, TypingService typing, Authenticator authenticator, IOptions<HeraldOptions> options)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (!Channels.ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        if (!RequestBody.IsJson(context.Request.ContentType))
            return Problems.UnsupportedMediaType(context.Request.ContentType);

        if (context.Request.ContentLength > MaxBodyBytes)
            return Problems.Make(413, "message_too_large", "Message too large", $"The body is larger than {MaxBodyBytes} bytes.");
        bool typed;
        try
        {
            var body = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 4 }, context.RequestAborted);
            using (body)
            {
                if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("typing", out var value)
                    || value.ValueKind is not (JsonValueKind.True or JsonValueKind.False) || body.RootElement.EnumerateObject().Count() != 1)
                    return Problems.InvalidBody("The body is {\"typing\": true} (start or refresh) or {\"typing\": false} (stop).");
                typed = value.GetBoolean();
            }
        }
        catch (JsonException e)
        {
            return Problems.InvalidBody($"The body is not valid JSON: {e.Message}");
        }

        switch (typing.Check(channel, caller))
        {
            case TypingError.Disabled:
                return Problems.Make(403, "typing_disabled", "Typing is off", $"Typing is off on '{channel}': its namespace does not enable it (Herald:Namespaces:{Channels.ChannelName.NamespaceOf(channel)}:Typing).");
            case TypingError.NotAUser:
                return caller.Kind == CallerKind.Invalid ? Problems.Forbidden(caller.Error ?? "The credentials are not valid.") : Problems.Unauthorized("Typing is said by a user: send a user token.");
            case TypingError.Forbidden:
                return Problems.Forbidden($"This user may not subscribe to '{channel}', so may not type there.");
        }

        try
        {
            await typing.SetAsync(channel, caller.User!, typed, session: null, context.RequestAborted);
        }
        catch (EngineUnavailableException e)
        {
            return Problems.EngineUnavailable(e.Message);
        }

        var policy = options.Value.PolicyFor(channel);
        return TypedResults.Json(
            new TypingResponse(channel, typed, (long)policy.TypingResend.TotalMilliseconds, (long)policy.TypingIdle.TotalMilliseconds, (long)policy.TypingExpire.TotalMilliseconds),
            ApiJsonContext.Default.TypingResponse,
            statusCode: StatusCodes.Status202Accepted);
    }
}

/// <summary>The typing state was taken; resend every <c>resend</c> ms while typing, stop after <c>idle</c> ms without a keystroke; the server forgets a silent typer after <c>expire</c> ms.</summary>
public sealed record TypingResponse(string Channel, bool Typing, long Resend, long Idle, long Expire);
