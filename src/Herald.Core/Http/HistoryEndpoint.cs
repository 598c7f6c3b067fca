using Herald.Hub;
using System.Globalization;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Log;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Http;

/// <summary>
/// <c>GET /v1/channels/{channel}/messages?after=&amp;limit=&amp;reverse=</c>: history, which is also
/// short polling. A strong ETag names (epoch, first retained, newest offset), so a poll that finds
/// nothing new costs a 304 with no body.
/// </summary>
internal static class HistoryEndpoint
{
    public const int DefaultLimit = 100;

    public static async Task<IResult> HandleAsync(
        string channel,
        HttpContext context,
        IChannelLog log,
        Authenticator authenticator,
        IOptions<HeraldOptions> options,
        Stats.PollCounters polls)
    {
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);

        var settings = options.Value;
        var denied = AccessCheck.Check(settings.PolicyFor(channel).Subscribe, await authenticator.IdentifyAsync(context.Request), "read history");
        if (denied is not null)
            return denied;

        var query = context.Request.Query;
        if (!TryParseLong(query["after"], 0, out var after) || after < 0)
            return Problems.InvalidQuery("'after' must be a non-negative integer offset.");
        if (!TryParseLong(query["limit"], Math.Min(DefaultLimit, settings.MaxHistoryLimit), out var limit) || limit < 1 || limit > settings.MaxHistoryLimit)
            return Problems.InvalidQuery($"'limit' must be an integer from 1 to {settings.MaxHistoryLimit}.");
        if (!TryParseBool(query["reverse"], out var reverse))
            return Problems.InvalidQuery("'reverse' must be 'true' or 'false'.");

        polls.CountShortPoll();
        var state = await log.GetStateAsync(channel, context.RequestAborted);
        var etag = ETagOf(state);
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == etag || v == "*")))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);

        var publications = await ReadWindowAsync(log, channel, after, (int)limit, reverse, context.RequestAborted);
        return new HistoryResult(channel, state, publications);
    }

    /// <summary>
    /// Forward: the oldest <paramref name="limit"/> publications after <paramref name="after"/>.
    /// Reverse: the newest <paramref name="limit"/> publications after <paramref name="after"/>, newest first.
    /// </summary>
    internal static async Task<IReadOnlyList<Publication>> ReadWindowAsync(
        IChannelLog log, string channel, long after, int limit, bool reverse, CancellationToken cancellationToken)
    {
        if (!reverse)
            return (await log.ReadAsync(channel, new ReadRequest(after, limit), cancellationToken)).Publications;

        var newest = (await log.ReadAsync(channel, new ReadRequest(0, limit, Reverse: true), cancellationToken)).Publications;
        return after == 0 ? newest : [.. newest.Where(p => p.Offset > after)];
    }

    internal static string ETagOf(StreamState state) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{state.Epoch}-{state.First}-{state.Top}\"");

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

    /// <summary>The members of a history answer, shared by HTTP and the WebSocket <c>history</c> reply.</summary>
    internal static void WriteMembers(Utf8JsonWriter writer, string channel, StreamState state, IReadOnlyList<Publication> publications)
    {
        writer.WriteString("channel"u8, channel);
        writer.WriteString("epoch"u8, state.Epoch);
        writer.WriteNumber("top"u8, state.Top);
        writer.WriteNumber("first"u8, state.First);
        writer.WriteStartArray("publications"u8);
        foreach (var publication in publications)
            PublicationEncoder.WriteObject(writer, publication);
        writer.WriteEndArray();
    }

    private sealed class HistoryResult(string channel, StreamState state, IReadOnlyList<Publication> publications) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            WriteMembers(writer, channel, state, publications);
            writer.WriteEndObject();
            await writer.FlushAsync(httpContext.RequestAborted);
        }
    }
}
