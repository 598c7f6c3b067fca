using System.Text.Json;
using Herald.Auth;
using Herald.Hub;

namespace Herald.Presence;

public sealed partial class PresenceService
{
    /// <summary>Held long polls, woken by a presence diff of their channel so a list poller sees it at once.</summary>
    internal PollWaiters? Polls { get; set; }

    /// <summary>
    /// A poll's presence on one channel: a <b>lease</b> (the connection <c>poll/&lt;user&gt;</c>)
    /// renewed by each poll for <paramref name="lease"/>, then what the mode asks for, as the
    /// <c>presence</c> member of the channel's entry in the answer.
    /// </summary>
    /// <returns>The member's JSON and whether it is news (diffs, or a snapshot the client must take); null JSON for <c>enter</c>.</returns>
    public async ValueTask<(byte[]? Json, bool News)> PollAsync(string channel, Caller caller, PresenceMode mode, PresencePosition? since, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (mode == PresenceMode.Off || caller.Kind != CallerKind.User || caller.User is not { } user)
            return (mode == PresenceMode.Off ? null : PresenceJson.Write(128, w => w.WriteString("mode"u8, PresenceJson.ModeName(PresenceMode.Off))), false);

        var policy = _options.PolicyFor(channel);
        var joined = Enqueue(channel, new PresenceChange(PresenceChangeKind.Join, "poll/" + user, user, caller.Info, ExpiresAt: _time.GetUtcNow() + lease), policy);
        await joined.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (mode == PresenceMode.Enter)
            return (null, false);

        var first = await _store.ReadAsync(channel, null, policy.PresenceListLimit, cancellationToken).ConfigureAwait(false);
        if (mode == PresenceMode.List && first.Counts.Users > policy.PresenceListLimit)
            mode = PresenceMode.Count;
        if (mode == PresenceMode.Count)
        {
            return (PresenceJson.Write(128, w =>
            {
                w.WriteString("mode"u8, "count");
                w.WriteNumber("users"u8, first.Counts.Users);
                w.WriteNumber("connections"u8, first.Counts.Connections);
            }), false);
        }

        if (since is { } position && await _store.ReadDiffsAsync(channel, position.Epoch, position.Seq, cancellationToken).ConfigureAwait(false) is { } diffs)
        {
            var seq = position.Seq;
            foreach (var diff in diffs)
                seq = Math.Max(seq, DiffHeader.Read(diff.Span).To);
            return (PresenceJson.Write(128, w =>
            {
                w.WriteString("mode"u8, "list");
                w.WriteBoolean("recovered"u8, true);
                w.WriteString("epoch"u8, position.Epoch);
                w.WriteNumber("seq"u8, seq);
                w.WriteStartArray("diffs"u8);
                foreach (var diff in diffs)
                    w.WriteRawValue(diff.Span, skipInputValidation: true);
                w.WriteEndArray();
                w.WriteNumber("users"u8, first.Counts.Users);
                w.WriteNumber("connections"u8, first.Counts.Connections);
            }), diffs.Count > 0);
        }

        return (PresenceJson.Write(128, w =>
        {
            w.WriteString("mode"u8, "list");
            w.WriteBoolean("recovered"u8, false);
            w.WriteString("epoch"u8, first.Epoch);
            w.WriteNumber("seq"u8, first.Seq);
            w.WriteStartArray("members"u8);
            foreach (var member in first.Members)
                PresenceJson.WriteMember(w, member);
            w.WriteEndArray();
            w.WriteNumber("users"u8, first.Counts.Users);
            w.WriteNumber("connections"u8, first.Counts.Connections);
        }), true);
    }

    /// <summary>
    /// A poll answered: the poller's lease now runs only <paramref name="lease"/> from here (its
    /// grace and a margin for the next request), not the rest of the wait it was given.
    /// </summary>
    public void RenewPollLease(string channel, Caller caller, PresenceMode asked, TimeSpan lease)
    {
        if (caller.Kind != CallerKind.User || caller.User is not { } user || Allowed(channel, caller, asked) == PresenceMode.Off)
            return;
        _ = Enqueue(channel, new PresenceChange(PresenceChangeKind.Join, "poll/" + user, user, caller.Info, ExpiresAt: _time.GetUtcNow() + lease), _options.PolicyFor(channel));
    }
}
