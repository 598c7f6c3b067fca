using Herald.Channels;

namespace Herald.Auth;

/// <summary>Why a caller may not do something: an HTTP status, a stable code and a sentence.</summary>
/// <param name="Canonical">For <c>non_canonical_channel</c>: the channel name to use instead.</param>
public readonly record struct Denial(int Status, string Code, string Message, string? Canonical = null)
{
    /// <summary>A channel refused by its name: <c>non_canonical_channel</c> with the name to use, else <c>invalid_channel</c>.</summary>
    public static Denial ChannelName(string message, string? canonical) =>
        new(400, canonical is null ? "invalid_channel" : "non_canonical_channel", message, canonical);
}

/// <summary>The one set of access rules, answered by each entry point in its own way.</summary>
public static class AccessRules
{
    /// <summary>Null when the caller may proceed.</summary>
    public static Denial? Evaluate(Access required, Caller caller, string action) => (caller.Kind, required) switch
    {
        (CallerKind.Invalid, _) => new Denial(403, "forbidden", caller.Error ?? "The credentials are not valid."),
        (CallerKind.Server, _) => null,
        (_, Access.Anyone) => null,
        (CallerKind.User, Access.Authenticated) => null,
        (CallerKind.User, _) => new Denial(403, "forbidden", $"Only server API keys may {action}."),
        (_, Access.Authenticated) => new Denial(401, "unauthorized", $"A user token or an API key is required to {action}."),
        _ => new Denial(401, "unauthorized", $"A server API key is required to {action} (Authorization: Bearer <key> or X-Api-Key)."),
    };
}
