using System.Text.Json;
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
        var (bytes, read) = await RequestBody.ReadArrayAsync(context, limit);
        if (read.Status == BodyStatus.TooLarge)
            return Problems.Make(413, "message_too_large", "Message too large", $"The signal is larger than the limit of {limit - 1024} bytes.");
        if (bytes is null)
            return RequestBody.Unreadable(read);
        if (!TryParse(bytes, out var name, out var data, out var bodyError))
            return Problems.InvalidBody(bodyError);

        var key = (caller.User ?? context.Connection.RemoteIpAddress?.ToString() ?? string.Empty) + "\n" + channel;
        var result = await signals.SendAsync(channel, caller, name, data, limiter, key, context.RequestAborted);
        return result.Error switch
        {
            SignalError.None => TypedResults.Json(new SignalResponse(channel, name!), ApiJsonContext.Default.SignalResponse, statusCode: StatusCodes.Status202Accepted),
            SignalError.InvalidChannel => Problems.InvalidChannel(result.Message),
            SignalError.Unauthorized => Problems.Unauthorized(result.Message),
            SignalError.Forbidden => Problems.Forbidden(result.Message),
            SignalError.Disabled => Problems.Make(403, "signals_disabled", "Signals are off", result.Message),
            SignalError.TooLarge => Problems.Make(413, "message_too_large", "Message too large", result.Message),
            SignalError.RateLimited => Problems.Make(429, "rate_limited", "Too many signals", result.Message),
            SignalError.EngineUnavailable => Problems.EngineUnavailable(result.Message),
            _ => Problems.InvalidBody(result.Message),
        };
    }

    /// <summary><c>{"name": string, "data": any JSON}</c>, nothing else; data defaults to null.</summary>
    private static bool TryParse(byte[] body, out string? name, out ReadOnlyMemory<byte> data, out string error)
    {
        name = null;
        data = "null"u8.ToArray();
        error = "The body is {\"name\": \"<1-64 characters>\", \"data\": <any JSON>}.";
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                        return false;
                    name = reader.GetString();
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = body.AsMemory(start, (int)reader.BytesConsumed - start);
                }
                else
                {
                    error = $"Unknown member '{reader.GetString()}': the body is {{\"name\", \"data\"}}.";
                    return false;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException e)
        {
            error = $"The body is not valid JSON: {e.Message}";
            return false;
        }
    }
}

/// <summary>A signal was handed on to the channel's current subscribers.</summary>
public sealed record SignalResponse(string Channel, string Name);
