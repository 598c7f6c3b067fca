using Herald.Channels;

namespace Herald.Auth;

/// <summary>
/// Who may do what on a channel: the namespace's kind and access levels, and the caller's token
/// grants. The one place every entry point asks (HTTP publish and history, the WebSocket ops, SSE,
/// streaming and polling subscriptions, inbound webhooks through the publish service).
/// </summary>
public static class ChannelAccess
{
    /// <summary>Null when <paramref name="caller"/> may do <paramref name="operation"/> on <paramref name="channel"/> (a valid name).</summary>
    public static Denial? Check(HeraldOptions options, string channel, Caller caller, ChannelOperation operation)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (caller.Kind == CallerKind.Invalid)
            return new Denial(403, "forbidden", caller.Error ?? "The credentials are not valid.");

        // A thread ('chat:lobby=57') is used by whoever may use its parent.
        if (ThreadChannel.TryParse(channel, out var parent, out _))
        {
            var denial = Check(options, parent, caller, operation);
            return denial is { Canonical: { } canonical } ? denial.Value with { Canonical = canonical + channel[parent.Length..] } : denial;
        }

        var ns = ChannelName.NamespaceOf(channel);
        var policy = options.PolicyFor(channel);
        return options.KindOf(ns) switch
        {
            ChannelKind.Personal => Personal(channel, caller, operation),
            ChannelKind.Direct => Direct(channel, policy.MaxDirectMembers, caller, operation),
            _ => Public(policy, channel, caller, operation),
        };
    }

    private static Denial? Public(ChannelPolicy policy, string channel, Caller caller, ChannelOperation operation)
    {
        if (caller.Grants?.Allows(channel, operation) == true)
            return null;
        var required = operation == ChannelOperation.Publish ? policy.Publish : policy.Subscribe;
        return AccessRules.Evaluate(required, caller, Describe(operation, channel));
    }

    private static Denial? Personal(string channel, Caller caller, ChannelOperation operation)
    {
        if (caller.Kind == CallerKind.Server || caller.Grants?.Allows(channel, operation) == true)
            return null;
        var owner = channel[(channel.IndexOf(':', StringComparison.Ordinal) + 1)..];
        if (operation == ChannelOperation.Publish)
            return caller.Kind == CallerKind.User
                ? new Denial(403, "forbidden", $"Only server API keys publish on personal channels such as '{channel}'.")
                : new Denial(401, "unauthorized", $"A server API key is required to publish on the personal channel '{channel}'.");
        if (caller.Kind != CallerKind.User)
            return new Denial(401, "unauthorized", $"'{channel}' is a personal channel: a token of the user '{owner}' is required to {Verb(operation)} it.");
        return string.Equals(caller.User, owner, StringComparison.Ordinal)
            ? null
            : new Denial(403, "forbidden", $"'{channel}' is the personal channel of '{owner}'; only that user's sessions may {Verb(operation)} it.");
    }

    private static Denial? Direct(string channel, int maxMembers, Caller caller, ChannelOperation operation)
    {
        // The canonical name first, for every caller: a second name for the same members would be a second channel.
        if (!DirectChannel.TryCheck(channel, maxMembers, out var members, out var canonical, out var error))
            return Denial.ChannelName(error, canonical);
        if (caller.Kind == CallerKind.Server || caller.Grants?.Allows(channel, operation) == true)
            return null;
        if (caller.Kind != CallerKind.User)
            return new Denial(401, "unauthorized", $"'{channel}' is a direct channel: a member's user token is required to {Verb(operation)} it.");
        if (members.Length == 0)
            return new Denial(403, "forbidden", $"'{channel}' is a hashed direct channel: a token granting it in its 'channels' claim is required.");
        return Array.IndexOf(members, caller.User) >= 0
            ? null
            : new Denial(403, "forbidden", $"Only the members of the direct channel '{channel}' may {Verb(operation)} it.");
    }

    private static string Verb(ChannelOperation operation) => operation switch
    {
        ChannelOperation.Publish => "publish on",
        ChannelOperation.Presence => "be present on",
        _ => "subscribe to",
    };

    private static string Describe(ChannelOperation operation, string channel) => $"{Verb(operation)} '{channel}'";
}
