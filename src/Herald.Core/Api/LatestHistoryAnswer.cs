using System.Text.Json;
using Herald.Engine;
using Herald.Http;
using Herald.Publishing;
using Microsoft.AspNetCore.Http;

namespace Herald.Api;

/// <summary>
/// <c>GET /v1/channels/{channel}/messages?view=latest</c>: the history answer with each message's
/// edits, deletes, reactions and thread folded in (<see cref="LatestHistory"/>).
/// </summary>
internal sealed class LatestHistoryAnswer(string channel, StreamState state, IReadOnlyList<LatestMessage> messages) : IResult
{
    /// <summary>The ETag of the latest view: the log's state, told apart from the raw view's for the same state.</summary>
    public static string ETag(StreamState state) => EntityTags.OfHistory(state)[..^1] + "-latest\"";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        writer.WriteStartObject();
        LatestViewEncoder.WriteHistoryMembers(writer, channel, state, messages);
        writer.WriteEndObject();
        await writer.FlushAsync(httpContext.RequestAborted);
    }
}
