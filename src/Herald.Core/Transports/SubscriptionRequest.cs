using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Http;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports;

/// <summary>
/// The channels and resume position of an SSE, streaming or long-poll request — the same
/// parameters on all three: <c>?channel=a&amp;channel=b</c> and a cursor from <c>?cursor=</c>,
/// the <c>Last-Event-ID</c> header, or <c>?lastEventId=</c> (for clients that cannot set it).
/// </summary>
/// <param name="Channels">Distinct channels, in request order.</param>
/// <param name="Positions">The cursor's position per channel; a channel without one starts from now.</param>
/// <param name="Caller">Who asked.</param>
/// <param name="Presence">The presence asked for with <c>?presence=</c> (every channel of the request); null: the default.</param>
/// <param name="PresenceSince">Per channel, the presence position a list subscriber resumes from (<c>?presenceSince=&lt;epoch&gt;.&lt;seq&gt;.&lt;channel&gt;</c>).</param>
/// <param name="TypingSeen">Polls only: per channel, the tag of the typing set the poller has (<c>?typing=&lt;tag&gt;.&lt;channel&gt;</c>, <c>0</c> for none).</param>
/// <param name="Receipts">SSE and streaming: <c>?receipts=true</c> — every channel's receipts, a snapshot and then diffs.</param>
internal sealed record SubscriptionRequest(
    IReadOnlyList<string> Channels,
    IReadOnlyDictionary<string, Position> Positions,
    Caller Caller,
    Presence.PresenceMode? Presence = null,
    IReadOnlyDictionary<string, Presence.PresencePosition>? PresenceSince = null,
    IReadOnlyDictionary<string, string>? TypingSeen = null,
    bool Receipts = false)
{
    /// <summary>Parses and authorizes the request; on failure <paramref name="problem"/> is the answer to send.</summary>
    /// <param name="personal">Adds the caller's auto-subscribed personal channels (<see cref="PersonalChannels"/>) after the named ones: the push transports.</param>
    public static async ValueTask<(SubscriptionRequest? Request, IResult? Problem)> ParseAsync(
        HttpContext context, Authenticator authenticator, HeraldOptions options, bool personal = false)
    {
        var query = context.Request.Query;
        var channels = new List<string>();
        foreach (var channel in query["channel"])
        {
            if (!ChannelName.TryValidate(channel, out var channelError))
                return (null, Problems.InvalidChannel(channelError));
            if (!channels.Contains(channel!))
                channels.Add(channel!);
        }

        var max = options.Transports.MaxChannelsPerConnection;
        if (channels.Count > max)
            return (null, Problems.InvalidQuery($"At most {max} channels per request."));

        var caller = await authenticator.IdentifyAsync(context.Request);
        if (personal && caller.Kind == CallerKind.User)
        {
            // On top of the named ones (and of the limit): the server's choice, not the client's.
            foreach (var channel in PersonalChannels.AutoSubscribed(options, caller.User))
            {
                if (!channels.Contains(channel))
                    channels.Add(channel);
            }
        }

        if (channels.Count == 0)
            return (null, Problems.InvalidQuery("Name at least one channel: ?channel=namespace:name (repeatable)."));
        foreach (var channel in channels)
        {
            var denied = AccessCheck.Check(options, channel, caller, ChannelOperation.Subscribe);
            if (denied is not null)
                return (null, denied);
        }

        string? token = query["cursor"];
        if (string.IsNullOrEmpty(token))
            token = context.Request.Headers["Last-Event-ID"];
        if (string.IsNullOrEmpty(token))
            token = query["lastEventId"];
        if (!Cursor.TryDecode(token, channels, out var positions, out var cursorError))
            return (null, Problems.InvalidCursor(cursorError));

        Presence.PresenceMode? presence = null;
        var presenceText = query["presence"];
        if (presenceText.Count > 0)
        {
            if (presenceText.Count > 1 || !Herald.Presence.PresenceJson.TryParseMode(presenceText[0], out var mode))
                return (null, Problems.InvalidQuery("'presence' must be one of off, enter, count, list."));
            presence = mode;
        }

        Dictionary<string, Presence.PresencePosition>? presenceSince = null;
        foreach (var value in query["presenceSince"])
        {
            if (!TryParsePresenceSince(value, out var channel, out var position) || !channels.Contains(channel))
                return (null, Problems.InvalidQuery("'presenceSince' must be <epoch>.<seq>.<channel> for a channel of the request."));
            if (presence != Herald.Presence.PresenceMode.List)
                return (null, Problems.InvalidQuery("'presenceSince' resumes a list presence subscription: send it with presence=list."));
            (presenceSince ??= new(StringComparer.Ordinal))[channel] = position;
        }

        Dictionary<string, string>? typingSeen = null;
        foreach (var value in query["typing"])
        {
            // <tag>.<channel>: a tag has no dot (Typing.TypingService.Tag).
            var dot = value?.IndexOf('.', StringComparison.Ordinal) ?? -1;
            if (dot is <= 0 or > 16 || !channels.Contains(value![(dot + 1)..]))
                return (null, Problems.InvalidQuery("'typing' must be <tag>.<channel> for a channel of the request (the tag of the typing set last received, 0 for none)."));
            (typingSeen ??= new(StringComparer.Ordinal))[value[(dot + 1)..]] = value[..dot];
        }

        var receipts = false;
        var receiptsText = query["receipts"];
        if (receiptsText.Count > 0)
        {
            if (receiptsText.Count > 1 || receiptsText[0] is not ("true" or "false"))
                return (null, Problems.InvalidQuery("'receipts' must be true or false."));
            receipts = receiptsText[0] == "true";
        }

        return (new SubscriptionRequest(channels, positions, caller, presence, presenceSince, typingSeen, receipts), null);
    }

    public Presence.PresencePosition? PresencePositionOf(string channel) =>
        PresenceSince is not null && PresenceSince.TryGetValue(channel, out var position) ? position : null;

    /// <summary><c>&lt;epoch&gt;.&lt;seq&gt;.&lt;channel&gt;</c>: an epoch has no dot, a seq is digits, the rest is the channel.</summary>
    internal static bool TryParsePresenceSince(string? value, out string channel, out Presence.PresencePosition position)
    {
        channel = string.Empty;
        position = default;
        if (string.IsNullOrEmpty(value))
            return false;
        var first = value.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : value.IndexOf('.', first + 1);
        if (first <= 0 || second < 0
            || !long.TryParse(value.AsSpan(first + 1, second - first - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq))
            return false;
        channel = value[(second + 1)..];
        position = new Presence.PresencePosition(value[..first], seq);
        return ChannelName.IsValid(channel);
    }

    public Position? PositionOf(string channel) => Positions.TryGetValue(channel, out var position) ? position : null;
}
