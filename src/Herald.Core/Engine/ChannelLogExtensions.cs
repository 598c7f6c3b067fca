namespace Herald.Engine;

public static class ChannelLogExtensions
{
    /// <summary>Publications a history read returns when it names no <c>limit</c> (at most <see cref="HeraldOptions.MaxHistoryLimit"/>).</summary>
    public const int DefaultHistoryLimit = 100;

    /// <summary>
    /// A history window, as every reader of history (HTTP, the WebSocket <c>history</c> op) serves it.
    /// Forward: the oldest <paramref name="limit"/> publications after <paramref name="after"/>.
    /// Reverse: the newest <paramref name="limit"/> publications after <paramref name="after"/>, newest first.
    /// </summary>
    public static async Task<IReadOnlyList<Publication>> ReadWindowAsync(
        this IChannelLog log, string channel, long after, int limit, bool reverse, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!reverse)
            return (await log.ReadAsync(channel, new ReadRequest(after, limit), cancellationToken).ConfigureAwait(false)).Publications;

        var newest = (await log.ReadAsync(channel, new ReadRequest(0, limit, Reverse: true), cancellationToken).ConfigureAwait(false)).Publications;
        return after == 0 ? newest : [.. newest.Where(p => p.Offset > after)];
    }

    /// <summary>The states of <paramref name="channels"/>, in order: in one go when the log implements <see cref="IChannelStates"/>, else a few reads in flight at a time.</summary>
    public static async ValueTask<StreamState[]> GetStatesAsync(this IChannelLog log, IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(channels);
        if (log is IChannelStates batch)
            return await batch.GetStatesAsync(channels, cancellationToken).ConfigureAwait(false);

        var states = new StreamState[channels.Count];
        await Parallel.ForAsync(0, channels.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, token) =>
            states[i] = await log.GetStateAsync(channels[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return states;
    }
}
