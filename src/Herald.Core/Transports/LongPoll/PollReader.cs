using Herald.Engine;
using Herald.Hub;

namespace Herald.Transports.LongPoll;

/// <summary>
/// One read of a poll's channels from the log: what is pending after each position, up to a
/// total budget, and per channel whether the position could be resumed. Stateless: everything it
/// needs is in the cursor, so any node answers the same.
/// </summary>
internal static class PollReader
{
    /// <param name="log">The channel log.</param>
    /// <param name="channels">The requested channels, in request order.</param>
    /// <param name="since">Per channel (same order) the client's position; null starts that channel from its current top.</param>
    /// <param name="maxMessages">Most publications in the answer, across channels.</param>
    /// <param name="cancellationToken">The request's abort token.</param>
    public static async Task<PollAnswer> ReadAsync(
        IChannelLog log, IReadOnlyList<string> channels, IReadOnlyList<Position?> since, int maxMessages, CancellationToken cancellationToken)
    {
        var states = new PollChannel[channels.Count];
        var publications = new List<Publication>();
        var more = false;
        for (var i = 0; i < channels.Count; i++)
        {
            var channel = channels[i];
            if (since[i] is not { } from)
            {
                // From now: the position is the current top; nothing of the past is sent.
                var now = await log.GetStateAsync(channel, cancellationToken);
                states[i] = new PollChannel(channel, Recovered: true, now.Position, now);
                continue;
            }

            var budget = maxMessages - publications.Count;
            StreamState state;
            IReadOnlyList<Publication> page = [];
            if (budget > 0)
            {
                var read = await log.ReadAsync(channel, new ReadRequest(from.Offset, budget), cancellationToken);
                state = read.State;
                page = read.Publications;
            }
            else
            {
                state = await log.GetStateAsync(channel, cancellationToken);
            }

            if (!Session.CanRecover(from, state))
            {
                states[i] = Reset(channel, state);
                continue;
            }

            // Exactly the offsets after the position, contiguous and of the current epoch; a read
            // that does not start at from + 1 means retention or a removal overtook the state.
            var last = from.Offset;
            var taken = 0;
            foreach (var publication in page)
            {
                if (publication.Offset != last + 1 || !string.Equals(publication.Epoch, state.Epoch, StringComparison.Ordinal))
                    break;
                publications.Add(publication);
                last = publication.Offset;
                taken++;
            }

            if (taken == 0 && page.Count > 0)
            {
                states[i] = Reset(channel, await log.GetStateAsync(channel, cancellationToken));
                continue;
            }

            var position = taken > 0 ? new Position(state.Epoch, last) : from;
            more |= last < state.Top;
            states[i] = new PollChannel(channel, Recovered: true, position, state);
        }

        return new PollAnswer(states, publications, more);
    }

    private static PollChannel Reset(string channel, StreamState state) =>
        new(channel, Recovered: false, state.Position, state);
}

/// <summary>One channel in a poll answer.</summary>
/// <param name="Channel">The channel name.</param>
/// <param name="Recovered">False: the client's position was not resumable (epoch changed, fell out of retention, or ahead of the log); nothing of the past is sent and the position jumps to the current top.</param>
/// <param name="Position">Where the next cursor puts this channel: the last offset this answer carries, or the position it came with.</param>
/// <param name="State">The channel's log state the answer was read against.</param>
internal readonly record struct PollChannel(string Channel, bool Recovered, Position Position, StreamState State);
