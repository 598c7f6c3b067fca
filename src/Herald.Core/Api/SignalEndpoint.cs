using Herald.Auth;
using Herald.Http;
using Herald.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>POST /v1/channels/{channel}/signals</c> <c>{"name": "…", "data": …}</c>: a signal to the
/// channel's current subscribers (the <see cref="SignalService"/>); <c>202</c> once handed to the broker.
/// Users are limited per user (or address, when anonymous) and channel; API keys are not.
/// </summary>
internal static class SignalEndpoint
{
    public static async Task<IResult> HandleAsync(
        string channel,
        HttpContext context,
        SignalService signals,
        SignalRateLimiter limiter,
        Authenticator authenticator,
        IOptions<HeraldOptions> options)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (!Channels.ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        if (!RequestBody.IsJson(context.Request.ContentType))
            return Problems.UnsupportedMediaType(context.Request.ContentType);

        // The body is the envelope around data: a little room above the data's own limit.
        var limit = options.Value.PolicyFor(channel).MaxSignalBytes + 1024;
        if (context.Request.ContentLength > limit)
            return Problems.Make(413, "message_too_large", "Message too large", $"The signal is larger than the limit of {limit - 1024} bytes.");
        var read = await RequestBody.BufferAsync(context, limit);
        if (read.Status == BodyStatus.TooLarge)
            return Problems.Make(413, "message_too_large", "Message too large", $"The signal is larger than the limit of {limit - 1024} bytes.");
        if (read.Status == BodyStatus.Unreadable)
            return RequestBody.Unreadable(read);

        // The body stays in the request's pipe: the service compacts data from it once.
        SignalResult result;
        string? name;
        try
        {
            if (!PublishEnvelope.TryParse(read.Body, "name", dataRequired: false, out var envelope, out var bodyError))
                return Problems.InvalidBody(bodyError);
            name = envelope.Text;
            var key = (caller.User ?? context.Connection.RemoteIpAddress?.ToString() ?? string.Empty) + "\n" + channel;
            result = await signals.SendAsync(channel, caller, name, envelope.Data, limiter, key, context.RequestAborted);
        }
        finally
        {
            context.Request.BodyReader.AdvanceTo(read.Body.End);
        }

        return result.Error switch
        {
            SignalError.None => TypedResults.Json(new SignalResponse(channel, name!), ApiJsonContext.Default.SignalResponse, statusCode: StatusCodes.Status202Accepted),
            SignalError.InvalidChannel => Problems.From(Denial.ChannelName(result.Message, result.Canonical)),
            SignalError.Unauthorized => Problems.Unauthorized(result.Message),
            SignalError.Forbidden => Problems.Forbidden(result.Message),
            SignalError.Disabled => Problems.Make(403, "signals_disabled", "Signals are off", result.Message),
            SignalError.TooLarge => Problems.Make(413, "message_too_large", "Message too large", result.Message),
            SignalError.RateLimited => Problems.Make(429, "rate_limited", "Too many signals", result.Message),
            SignalError.EngineUnavailable => Problems.EngineUnavailable(result.Message),
            _ => Problems.InvalidBody(result.Message),
        };
    }
}

/// <summary>A signal was handed on to the channel's current subscribers.</summary>
public sealed record SignalResponse(string Channel, string Name);
