using Herald.Auth;
using Herald.Channels;
using Microsoft.AspNetCore.Http;

namespace Herald.Http;

internal static class AccessCheck
{
    /// <summary>Null when the caller may proceed, else the problem to answer.</summary>
    public static IResult? Check(Access required, Caller caller, string action) => (caller.Kind, required) switch
    {
        (CallerKind.Invalid, _) => Problems.Forbidden(caller.Error ?? "The credentials are not valid."),
        (CallerKind.Server, _) => null,
        (_, Access.Anyone) => null,
        (CallerKind.User, Access.Authenticated) => null,
        (CallerKind.User, _) => Problems.Forbidden($"Only server API keys may {action} on this namespace."),
        (_, Access.Authenticated) => Problems.Unauthorized($"This namespace requires a user token or an API key to {action}."),
        _ => Problems.Unauthorized($"This namespace requires a server API key to {action} (Authorization: Bearer <key> or X-Api-Key)."),
    };
}
