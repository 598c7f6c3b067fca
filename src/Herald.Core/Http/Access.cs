using Herald.Auth;
using Herald.Channels;
using Microsoft.AspNetCore.Http;

namespace Herald.Http;

/// <summary>The access rules answered over HTTP.</summary>
internal static class AccessCheck
{
    /// <summary>Null when the caller may proceed, else the HTTP problem to answer.</summary>
    public static IResult? Check(Access required, Caller caller, string action) =>
        AccessRules.Evaluate(required, caller, action) is { } denial ? Problems.From(denial) : null;

    /// <summary>Null when the caller may do <paramref name="operation"/> on <paramref name="channel"/>, else the HTTP problem (<see cref="ChannelAccess"/>).</summary>
    public static IResult? Check(HeraldOptions options, string channel, Caller caller, ChannelOperation operation) =>
        ChannelAccess.Check(options, channel, caller, operation) is { } denial ? Problems.From(denial) : null;
}
