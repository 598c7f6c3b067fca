using System.Globalization;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Http;
using Herald.Hub;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>GET /v1/channels/{channel}/messages?after=&amp;limit=&amp;reverse=&amp;view=</c>: history, which is also
/// short polling. A strong ETag names (epoch, first retained, newest offset), so a poll that finds
/// nothing new costs a 304 with no body.
/// </summary>
internal static class HistoryEndpoint
{
    public const int DefaultLimit = ChannelLogExtensions.DefaultHistoryLimit;

    public static async Task<IResult> HandleAsync(
        string channel,
        HttpContext context,
        IChannelLog log,
        Authenticator authenticator,
        IOptions<HeraldOptions> options,
        PollCounters polls)
    {
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);

        var settings = options.Value;
        var denied = AccessCheck.Check(settings, channel, await authenticator.IdentifyAsync(context.Request), ChannelOperation.Subscribe);
        if (denied is not null)
            return denied;

        var query = context.Request.Query;
        if (!TryParseLong(query["after"], 0, out var after) || after < 0)
            return Problems.InvalidQuery("'after' must be a non-negative integer offset.");
        if (!TryParseLong(query["limit"], Math.Min(DefaultLimit, settings.MaxHistoryLimit), out var limit) || limit < 1 || limit > settings.MaxHistoryLimit)
            return Problems.InvalidQuery($"'limit' must be an integer from 1 to {settings.MaxHistoryLimit}.");
        if (!TryParseBool(query["reverse"], out var reverse))
            return Problems.InvalidQuery("'reverse' must be 'true' or 'false'.");
        if (!Publishing.LatestHistory.TryParseView(query["view"], out var latest))
            return Problems.InvalidQuery(Publishing.LatestHistory.ViewError);

        polls.CountShortPoll();
        var state = await log.GetStateAsync(channel, context.RequestAborted);
        var etag = latest ? LatestHistoryAnswer.ETag(state) : EntityTags.OfHistory(state);
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = "no-cache";
        if (EntityTags.IfNoneMatch(context.Request.Headers.IfNoneMatch, etag))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        if (latest)
            return new LatestHistoryAnswer(channel, state, await Publishing.LatestHistory.ReadAsync(log, channel, state, after, (int)limit, reverse, settings.PolicyFor(channel), context.RequestAborted));

        var publications = await log.ReadWindowAsync(channel, after, (int)limit, reverse, context.RequestAborted);
        return new HistoryResult(channel, state, publications);
    }

    private static bool TryParseLong(string? text, long fallback, out long value)
    {
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseBool(string? text, out bool value)
    {
        value = false;
        return string.IsNullOrEmpty(text) || bool.TryParse(text, out value);
    }

    private sealed class HistoryResult(string channel, StreamState state, IReadOnlyList<Publication> publications) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            PublicationEncoder.WriteHistoryMembers(writer, channel, state, publications);
            writer.WriteEndObject();
            await writer.FlushAsync(httpContext.RequestAborted);
        }
    }
}
