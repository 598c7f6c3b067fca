using Herald.Channels;
using System.Buffers;
using System.Globalization;
using Herald.Auth;
using Herald.Engine;
using Herald.Http;
using Herald.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>POST /v1/channels/{channel}/messages</c>: parses the HTTP envelope (body <c>{"data", "type"}</c>,
/// <c>Idempotency-Key</c> header), hands it to the <see cref="PublishService"/> and answers its result.
/// </summary>
internal static class PublishEndpoint
{
    public static async Task<IResult> HandleAsync(
        string channel,
        HttpContext context,
        PublishService publisher,
        Authenticator authenticator,
        IOptions<HeraldOptions> options)
    {
        var request = context.Request;
        var caller = await authenticator.IdentifyAsync(request);

        // Checked before the body is read, so a refused caller or a body that cannot fit costs nothing.
        if (!Channels.ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        var policy = options.Value.PolicyFor(channel);
        if (AccessCheck.Check(options.Value, channel, caller, ChannelOperation.Publish) is { } denied)
            return denied;
        if (!RequestBody.IsJson(request.ContentType))
            return Problems.UnsupportedMediaType(request.ContentType);

        string? idempotencyKey = request.Headers["Idempotency-Key"];
        if (idempotencyKey is not null && !PublishService.IsValidIdempotencyKey(idempotencyKey))
            return Problems.InvalidHeader($"Idempotency-Key must be 1 to {PublishService.MaxIdempotencyKeyLength} printable ASCII characters.");

        // Over HTTP the limit is the whole body's (docs/protocol.md), so nothing larger is buffered.
        var bodyLimit = policy.MaxMessageBytes;
        if (request.ContentLength > bodyLimit)
            return Problems.TooLarge(policy.MaxMessageBytes);

        var reader = request.BodyReader;
        var read = await RequestBody.BufferAsync(context, bodyLimit);
        if (read.Status == BodyStatus.TooLarge)
            return Problems.TooLarge(policy.MaxMessageBytes);
        if (read.Status == BodyStatus.Unreadable)
            return RequestBody.Unreadable(read);
        var body = read.Body;

        // The body stays in the request's pipe: the service copies the data once, into what is stored.
        PublishResult result;
        try
        {
            if (!PublishEnvelope.TryParse(body, out var envelope, out var bodyError))
                return Problems.InvalidBody(bodyError);

            result = await publisher.PublishAsync(
                new PublishRequest
                {
                    Channel = channel,
                    Caller = caller,
                    Data = envelope.Data,
                    Type = envelope.Text,
                    IdempotencyKey = idempotencyKey,
                    Mentions = envelope.Mentions,
                },
                context.RequestAborted);
        }
        finally
        {
            reader.AdvanceTo(body.End);
        }

        return Answer(context, result, policy.MaxMessageBytes);
    }

    /// <summary>A publish result as an HTTP answer; shared with the other HTTP entry points of the publish service.</summary>
    internal static IResult Answer(HttpContext context, PublishResult result, int maxMessageBytes)
    {
        switch (result.Error)
        {
            case PublishError.None when result.Duplicate:
                context.Response.Headers["Idempotent-Replayed"] = "true";
                return TypedResults.Json(PublishResponse.From(result.Publication!), ApiJsonContext.Default.PublishResponse, statusCode: StatusCodes.Status200OK);
            case PublishError.None:
                return TypedResults.Json(PublishResponse.From(result.Publication!), ApiJsonContext.Default.PublishResponse, statusCode: StatusCodes.Status201Created);
            case PublishError.TooLarge:
                return Problems.TooLarge(maxMessageBytes);
            case PublishError.EngineUnavailable:
                context.Response.Headers.RetryAfter = Http.EngineUnavailableHandler.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.EngineUnavailable(result.Message);
            default:
                return Problems.ForPublish(result.Error, result.Message);
        }
    }
}

/// <summary>The answer to a publish: where the publication went in the channel's log, and its countable ordinal when it counts as a message.</summary>
public sealed record PublishResponse(string Channel, long Offset, string Epoch, string Id, DateTime Time, long? N = null)
{
    internal static PublishResponse From(Publication publication) =>
        new(publication.Channel, publication.Offset, publication.Epoch, publication.Id, publication.Time.UtcDateTime, publication.Countable ? publication.N : null);
}
