using System.Collections.Concurrent;
using Herald.Auth;
using Herald.Channels;
using Herald.Diagnostics;
using Herald.Engine;

namespace Herald.Publishing;

/// <summary>
/// The publish path's rules for Herald's own types and for threads (docs/protocol.md, "Edits,
/// deletes, reactions and threads"): a client publishes only <c>herald.edit|delete|react|unreact</c>,
/// each with its data's shape, about a message still in the channel's log, within the namespace's
/// <see cref="ChannelPolicy.Edits"/> and <see cref="ChannelPolicy.Reactions"/>; a thread
/// (<c>{parent}={root}</c>) is published to only when the namespace has <see cref="ChannelPolicy.Threads"/>
/// and its root is a message of the parent. Server callers pass the authorship rules, never the shape.
/// </summary>
internal sealed class ActionCheck(IChannelLog log)
{
    /// <summary>Threads whose root was seen: a busy node's active threads, cleared whole when full (a re-check is one read).</summary>
    private const int MaxKnownThreads = 10_000;

    private readonly ConcurrentDictionary<string, bool> _knownThreads = new(StringComparer.Ordinal);

    /// <summary>The refusal of <paramref name="request"/>, whose compact data is <paramref name="data"/>; null when it may be appended.</summary>
    public async ValueTask<PublishResult?> CheckAsync(PublishRequest request, ChannelPolicy policy, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            return await CheckCoreAsync(request, policy, data, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineUnavailableException e)
        {
            HeraldMetrics.EngineUnavailable.Add(1);
            return PublishResult.Failed(PublishError.EngineUnavailable, e.Message);
        }
    }

    private async ValueTask<PublishResult?> CheckCoreAsync(PublishRequest request, ChannelPolicy policy, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var channel = request.Channel;
        var type = request.Type;
        var caller = request.Caller;
        var server = caller.Kind == CallerKind.Server;
        ActionData? action = null;
        if (ActionTypes.IsReserved(type))
        {
            if (!ActionData.IsClientAction(type))
            {
                if (server)
                    return await CheckThreadAsync(channel, policy, cancellationToken).ConfigureAwait(false);
                return PublishResult.Failed(PublishError.ReservedType,
                    $"'{type}' is reserved: types starting with '{ActionTypes.Prefix}' are Herald's own, and a client may publish only {ActionTypes.Edit}, {ActionTypes.Delete}, {ActionTypes.React} and {ActionTypes.Unreact}.");
            }

            if (!ActionData.TryParse(type!, data, policy.MaxReactionKeyBytes, out var parsed, out var shapeError))
                return PublishResult.Failed(PublishError.InvalidAction, shapeError);
            action = parsed;
            if (Refuse(parsed, request, policy) is { } refused)
                return refused;
        }

        if (await CheckThreadAsync(channel, policy, cancellationToken).ConfigureAwait(false) is { } thread)
            return thread;
        return action is { } checkedAction ? await CheckTargetAsync(checkedAction, request, policy, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>The namespace's policy and the caller, before anything is read.</summary>
    private static PublishResult? Refuse(ActionData action, PublishRequest request, ChannelPolicy policy)
    {
        var ns = ChannelName.NamespaceOf(request.Channel);
        var server = request.Caller.Kind == CallerKind.Server;
        if (action.Type is ActionTypes.Edit or ActionTypes.Delete)
        {
            return policy.Edits == EditPolicy.Off && !server
                ? PublishResult.Failed(PublishError.EditsDisabled, $"Messages of '{request.Channel}' cannot be edited or deleted: its namespace has Edits: Off (Herald:Namespaces:{ns}:Edits).")
                : null;
        }

        if (policy.Reactions == ReactionPolicy.Off)
            return PublishResult.Failed(PublishError.ReactionsDisabled, $"Reactions are off on '{request.Channel}': its namespace has Reactions: Off (Herald:Namespaces:{ns}:Reactions).");
        if ((request.From ?? request.Caller.User) is not null)
            return null;
        return server
            ? PublishResult.Failed(PublishError.InvalidAction, "A reaction is counted per user, and a server API key has none: react with a user token.")
            : PublishResult.Failed(PublishError.Unauthorized, "A reaction is counted per user: send a user token to react.");
    }

    /// <summary>The message an action refers to: still in the log, a message (not an action), and for an edit or delete under <c>Own</c> the caller's.</summary>
    private async ValueTask<PublishResult?> CheckTargetAsync(ActionData action, PublishRequest request, ChannelPolicy policy, CancellationToken cancellationToken)
    {
        var channel = request.Channel;
        var read = await log.ReadAsync(channel, new ReadRequest(action.Ref - 1, 1), cancellationToken).ConfigureAwait(false);
        var target = read.Publications.FirstOrDefault(p => p.Offset == action.Ref);
        if (target is null)
        {
            var state = read.State;
            return action.Ref > state.Top
                ? PublishResult.Failed(PublishError.InvalidAction, $"'ref' {action.Ref} is past the newest offset of '{channel}' ({state.Top}): an action refers to an earlier message.")
                : PublishResult.Failed(PublishError.MessageNotFound, $"There is no message at offset {action.Ref} of '{channel}' any more: it left the channel's history (retained now: {state.First} to {state.Top}).");
        }

        if (ActionTypes.IsReserved(target.Type))
            return PublishResult.Failed(PublishError.MessageNotFound, $"Offset {action.Ref} of '{channel}' is a {target.Type}, not a message: actions refer to messages.");

        if (action.Type is ActionTypes.Edit or ActionTypes.Delete && policy.Edits == EditPolicy.Own && request.Caller.Kind != CallerKind.Server)
        {
            var actor = request.From ?? request.Caller.User;
            if (actor is null || !string.Equals(actor, target.From, StringComparison.Ordinal))
            {
                var verb = action.Type == ActionTypes.Edit ? "edit" : "delete";
                return PublishResult.Failed(PublishError.NotAuthor, $"Only the author of offset {action.Ref} may {verb} it (the namespace has Edits: Own).");
            }
        }

        return null;
    }

    /// <summary>A publication to a thread: the namespace has threads, threads do not nest, and the root is a message of the parent.</summary>
    private async ValueTask<PublishResult?> CheckThreadAsync(string channel, ChannelPolicy policy, CancellationToken cancellationToken)
    {
        if (!ThreadChannel.TryParse(channel, out var parent, out var root))
            return null;
        if (!policy.Threads)
            return PublishResult.Failed(PublishError.ThreadsDisabled, $"'{channel}' is a thread, and its namespace has Threads: false (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:Threads).");
        if (_knownThreads.ContainsKey(channel))
            return null;
        if (ThreadChannel.IsThread(parent))
            return PublishResult.Failed(PublishError.InvalidChannel, $"'{channel}' would be a thread of the thread '{parent}': threads do not nest; reply in '{parent}'.");

        var read = await log.ReadAsync(parent, new ReadRequest(root - 1, 1), cancellationToken).ConfigureAwait(false);
        var found = read.Publications.FirstOrDefault(p => p.Offset == root);
        if (found is not null && !ActionTypes.IsReserved(found.Type))
            return Known(channel);

        // A root that left the parent's history after the thread began does not close the thread.
        if (found is null && (await log.GetStateAsync(channel, cancellationToken).ConfigureAwait(false)).Top > 0)
            return Known(channel);

        return PublishResult.Failed(PublishError.MessageNotFound, found is null
            ? $"'{channel}' is the thread of offset {root} of '{parent}', and there is no message there (retained now: {read.State.First} to {read.State.Top})."
            : $"'{channel}' is the thread of offset {root} of '{parent}', which is a {found.Type}, not a message.");
    }

    private PublishResult? Known(string thread)
    {
        if (_knownThreads.Count >= MaxKnownThreads)
            _knownThreads.Clear();
        _knownThreads[thread] = true;
        return null;
    }
}
