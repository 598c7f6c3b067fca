namespace Herald.Hub;

/// <summary>
/// Polls this node answered, for the stats endpoint. Polling holds no connection between requests,
/// so it shows as requests per second rather than as open connections.
/// </summary>
public sealed class PollCounters
{
    private long _shortPolls;
    private long _longPolls;

    /// <summary>History reads (<c>GET /v1/channels/{ch}/messages</c>) and <c>GET /v1/poll?wait=0</c>.</summary>
    public long ShortPolls => Interlocked.Read(ref _shortPolls);

    /// <summary>Long polls that were held (<c>GET /v1/poll</c> with <c>wait</c> &gt; 0 and a free slot).</summary>
    public long LongPolls => Interlocked.Read(ref _longPolls);

    public void CountShortPoll() => Interlocked.Increment(ref _shortPolls);

    public void CountLongPoll() => Interlocked.Increment(ref _longPolls);
}
