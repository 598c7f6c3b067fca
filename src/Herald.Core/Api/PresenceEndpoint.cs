using System.Globalization;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Herald.Presence;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// The server side of presence: <c>GET /v1/channels/{channel}/presence</c> (the member list, paged by
/// user id), <c>GET /v1/channels/{channel}/presence/count</c>, and <c>GET /v1/presence/online?user=…</c>
/// (which of a list of users has a connection open anywhere; API keys only).
/// </summary>
internal static class PresenceEndpoint
{
    /// <summary>Users one online request may ask about.</summary>
    public const int MaxOnlineUsers = 100;

    public static async Task<IResult> ListAsync(string channel, HttpContext context, PresenceService presence, Authenticator authenticator, IOptions<HeraldOptions> options, CancellationToken cancellationToken)
    {
        if (await RefuseAsync(channel, context, authenticator, options.Value, PresenceMode.List) is { } refused)
            return refused;

        var query = context.Request.Query;
        var max = options.Value.PolicyFor(channel).PresenceListLimit;
        var limit = Math.Min(PresenceService.SnapshotPageSize, max);
        if (query["limit"] is { Count: > 0 } limitText && (!int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > max))
            return Problems.InvalidQuery($"'limit' must be from 1 to {max} (the namespace's PresenceListLimit).");
        string? after = query["after"];
        var page = await presence.Store.ReadAsync(channel, string.IsNullOrEmpty(after) ? null : after, limit, cancellationToken);
        var members = page.Members.Select(m => new PresenceMemberResponse(
            m.User,
            m.Info.IsEmpty ? null : JsonDocument.Parse(m.Info).RootElement.Clone(),
            m.Status,
            m.Connections,
            m.Since.ToUnixTimeMilliseconds())).ToList();
        return TypedResults.Json(
            new PresenceListResponse(channel, page.Epoch, page.Seq, page.Counts.Users, page.Counts.Connections, members, page.Next),
            ApiJsonContext.Default.PresenceListResponse);
    }

    public static async Task<IResult> CountAsync(string channel, HttpContext context, PresenceService presence, Authenticator authenticator, IOptions<HeraldOptions> options, CancellationToken cancellationToken)
    {
        if (await RefuseAsync(channel, context, authenticator, options.Value, PresenceMode.Count) is { } refused)
            return refused;
        var page = await presence.Store.ReadAsync(channel, null, 1, cancellationToken);
        return TypedResults.Json(new PresenceCountResponse(channel, page.Counts.Users, page.Counts.Connections), ApiJsonContext.Default.PresenceCountResponse);
    }

    public static async Task<IResult> OnlineAsync(HttpContext context, PresenceService presence, Authenticator authenticator, CancellationToken cancellationToken)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (caller.Kind != CallerKind.Server)
            return caller.Kind == CallerKind.Anonymous
                ? Problems.Unauthorized("A server API key is required: who is online across channels is not shown to users.")
                : Problems.Forbidden("Only server API keys may ask who is online across channels.");
        var users = context.Request.Query["user"].Where(u => !string.IsNullOrEmpty(u)).Select(u => u!).Distinct(StringComparer.Ordinal).ToList();
        if (users.Count is 0 or > MaxOnlineUsers)
            return Problems.InvalidQuery($"Name 1 to {MaxOnlineUsers} users: ?user=alice&user=bob.");
        var online = await presence.Store.OnlineAsync(users, cancellationToken);
        return TypedResults.Json(
            new PresenceOnlineResponse(users.ToDictionary(u => u, u => new PresenceOnlineEntry(online.GetValueOrDefault(u) > 0, online.GetValueOrDefault(u)), StringComparer.Ordinal)),
            ApiJsonContext.Default.PresenceOnlineResponse);
    }

    /// <summary>API keys may read any namespace that has presence; users need presence access and the namespace's mode.</summary>
    private static async Task<IResult?> RefuseAsync(string channel, HttpContext context, Authenticator authenticator, HeraldOptions options, PresenceMode needed)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        var policy = options.PolicyFor(channel);
        if (policy.Presence < needed)
            return Problems.Make(403, "presence_disabled", "Presence is off",
                $"The namespace of '{channel}' does not offer presence as {PresenceJson.ModeName(needed)} (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:Presence is {policy.Presence}).");
        if (caller.Kind == CallerKind.Server)
            return null;
        return ChannelAccess.Check(options, channel, caller, ChannelOperation.Presence) is { } denial ? Problems.From(denial) : null;
    }
}

/// <summary>One page of a channel's members, ordered by user id; <c>next</c> is the <c>after</c> of the next page.</summary>
public sealed record PresenceListResponse(string Channel, string Epoch, long Seq, int Users, int Connections, IReadOnlyList<PresenceMemberResponse> Members, string? Next);

/// <summary>One present user: <c>info</c> from their token, the <c>status</c> they set, their open connections on the channel, and when they joined (Unix milliseconds).</summary>
public sealed record PresenceMemberResponse(string User, JsonElement? Info, string? Status, int Conns, long Since);

/// <summary>Listed users (online or within their leave grace) and connections (anonymous ones included).</summary>
public sealed record PresenceCountResponse(string Channel, int Users, int Connections);

/// <summary>Per user asked: online (a connection open on any channel with presence) and how many.</summary>
public sealed record PresenceOnlineResponse(IReadOnlyDictionary<string, PresenceOnlineEntry> Users);

public sealed record PresenceOnlineEntry(bool Online, int Connections);
