using Herald.Channels;
using Herald.Engine;

namespace Herald.Publishing;

/// <summary>
/// History's <c>view=latest</c>: a page of a channel's messages (paged over messages, actions
/// skipped) with every action about them folded in by <see cref="LatestView"/>. An action may come
/// any time after its message, so the log is read from the page's first message up to the top the
/// answer names: at most what the channel retains (its namespace's <c>HistorySize</c>), in reads of
/// <see cref="ReadChunk"/>. An action whose message left the history is not seen.
/// </summary>
public static class LatestHistory
{
    /// <summary>Publications per read of the log. 1,000: history's own largest page.</summary>
    public const int ReadChunk = 1000;

    /// <summary>What a history read says of a <c>view</c> it does not know.</summary>
    public const string ViewError = "'view' must be 'raw' (the log as it is, the default) or 'latest' (the messages with their edits, deletes, reactions and threads folded in).";

    /// <summary>A history read's <c>view</c>: absent or <c>raw</c> (false), <c>latest</c> (true); false when it is neither.</summary>
    public static bool TryParseView(string? text, out bool latest)
    {
        latest = text == "latest";
        return latest || string.IsNullOrEmpty(text) || text == "raw";
    }

    /// <summary>
    /// The page after <paramref name="after"/> of at most <paramref name="limit"/> messages — the
    /// oldest first, or with <paramref name="reverse"/> the newest, newest first — folded up to
    /// <paramref name="state"/>'s top (what the answer's ETag names).
    /// </summary>
    public static async Task<IReadOnlyList<LatestMessage>> ReadAsync(
        IChannelLog log, string channel, StreamState state, long after, int limit, bool reverse, ChannelPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(policy);
        if (!reverse)
        {
            var forward = new LatestView(policy.Reactions, policy.ReactionUsersListed) { MaxMessages = limit };
            await FoldAsync(log, channel, forward, after, state.Top, cancellationToken).ConfigureAwait(false);
            return forward.Messages;
        }

        var page = await NewestMessagesAsync(log, channel, after, limit, state.Top, cancellationToken).ConfigureAwait(false);
        if (page.Count == 0)
            return [];
        var view = new LatestView(policy.Reactions, policy.ReactionUsersListed) { Track = page.Contains };
        await FoldAsync(log, channel, view, page.Min() - 1, state.Top, cancellationToken).ConfigureAwait(false);
        return [.. view.Messages.Reverse()];
    }

    /// <summary>Adds the publications after <paramref name="after"/> up to <paramref name="top"/> to <paramref name="view"/>.</summary>
    private static async Task FoldAsync(IChannelLog log, string channel, LatestView view, long after, long top, CancellationToken cancellationToken)
    {
        while (after < top)
        {
            var read = await log.ReadAsync(channel, new ReadRequest(after, ReadChunk), cancellationToken).ConfigureAwait(false);
            if (read.Publications.Count == 0)
                return;
            foreach (var publication in read.Publications)
            {
                if (publication.Offset > top)
                    return;
                view.Add(publication);
            }

            after = read.Publications[^1].Offset;
        }
    }

    /// <summary>The offsets of the newest <paramref name="limit"/> messages after <paramref name="after"/>, up to <paramref name="top"/>.</summary>
    private static async Task<HashSet<long>> NewestMessagesAsync(IChannelLog log, string channel, long after, int limit, long top, CancellationToken cancellationToken)
    {
        var page = new HashSet<long>();
        var before = top + 1;
        while (page.Count < limit && before - 1 > after)
        {
            var read = await log.ReadAsync(channel, new ReadRequest(before, ReadChunk, Reverse: true), cancellationToken).ConfigureAwait(false);
            if (read.Publications.Count == 0)
                break;
            foreach (var publication in read.Publications)
            {
                if (publication.Offset <= after || page.Count == limit)
                    return page;
                if (!ActionTypes.IsReserved(publication.Type))
                    page.Add(publication.Offset);
            }

            before = read.Publications[^1].Offset;
        }

        return page;
    }
}
