using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Http;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports.WebSocket;

/// <summary>
/// The personal channels a WebSocket is subscribed to when it opens (<see cref="ChannelPolicy.AutoSubscribe"/>),
/// and where each resumes: the connect URL's <c>?cursor=</c>, read against those channels only — a
/// cursor may name others (a client sends the positions it holds), which are ignored. A channel it
/// does not name starts live, like a <c>subscribe</c> without <c>since</c>.
/// </summary>
internal sealed record PersonalPositions(IReadOnlyList<string> Channels, IReadOnlyDictionary<string, Position> Positions)
{
    /// <summary>Null when the caller has no auto-subscribed channel; a problem when the cursor is malformed.</summary>
    public static (IResult? Problem, PersonalPositions? Positions)? Read(HttpRequest request, Caller caller, HeraldOptions options)
    {
        if (caller.Kind != CallerKind.User)
            return null;
        var channels = PersonalChannels.AutoSubscribed(options, caller.User);
        if (channels.Count == 0)
            return null;
        if (!Cursor.TryDecode(request.Query["cursor"], channels, out var positions, out var error, ignoreOthers: true))
            return (Problems.InvalidCursor(error), null);
        return (null, new PersonalPositions(channels, positions));
    }

    public Position? PositionOf(string channel) => Positions.TryGetValue(channel, out var position) ? position : null;
}
