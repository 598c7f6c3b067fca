using System.Buffers;
using System.IO.Pipelines;
using Herald.Auth;
using Herald.Channels;
using Herald.Log;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Herald.Http;

/// <summary><c>POST /v1/channels/{channel}/messages</c>: append one publication and answer its position.</summary>
internal static class PublishEndpoint
{
    /// <summary>128: room for a UUID or a hash with a prefix; anything longer is a client bug.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    public static async Task<IResult> HandleAsync(
        string channel,
        HttpContext context,
        IChannelLog log,
        Authenticator authenticator,
        IOptions<HeraldOptions> options)
    {
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);

        var settings = options.Value;
        var policy = settings.PolicyFor(channel);
        var caller = await authenticator.IdentifyAsync(context.Request);
        var denied = AccessCheck.Check(policy.Publish, caller, "publish");
        if (denied is not null)
            return denied;

        if (!IsJson(context.Request.ContentType))
            return Problems.UnsupportedMediaType(context.Request.ContentType);

        string? idempotencyKey = context.Request.Headers["Idempotency-Key"];
        if (idempotencyKey is not null && !IsValidIdempotencyKey(idempotencyKey))
            return Problems.InvalidHeader($"Idempotency-Key must be 1 to {MaxIdempotencyKeyLength} printable ASCII characters.");

        if (context.Request.ContentLength > policy.MaxMessageBytes)
            return Problems.TooLarge(policy.MaxMessageBytes);

        var body = await ReadBodyAsync(context.Request.BodyReader, policy.MaxMessageBytes, context.RequestAborted);
        if (body is null)
            return Problems.TooLarge(policy.MaxMessageBytes);

        if (!PublishBody.TryParse(body, out var parsed, out var bodyError))
            return Problems.InvalidBody(bodyError);

        var request = new AppendRequest(
            channel,
            parsed.Data,
            policy.ToRetention(settings.IdempotencyWindow),
            From: caller.User,
            parsed.Type,
            idempotencyKey);
        var result = await log.AppendAsync(request, context.RequestAborted);

        var response = PublishResponse.From(result.Publication);
        if (result.Duplicate)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
            return TypedResults.Json(response, HeraldJsonContext.Default.PublishResponse, statusCode: StatusCodes.Status200OK);
        }

        return TypedResults.Json(response, HeraldJsonContext.Default.PublishResponse, statusCode: StatusCodes.Status201Created);
    }

    internal static bool IsJson(string? contentType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    internal static bool IsValidIdempotencyKey(string key)
    {
        if (key.Length is 0 or > MaxIdempotencyKeyLength)
            return false;
        foreach (var c in key)
        {
            if (c is < '!' or > '~')
                return false;
        }

        return true;
    }

    /// <summary>Reads the whole body, or returns null as soon as it exceeds <paramref name="limit"/> bytes.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (read.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}

/// <summary>The answer to a publish: where the publication went in the channel's log.</summary>
public sealed record PublishResponse(string Channel, long Offset, string Epoch, string Id, DateTime Time)
{
    internal static PublishResponse From(Publication publication) =>
        new(publication.Channel, publication.Offset, publication.Epoch, publication.Id, publication.Time.UtcDateTime);
}
