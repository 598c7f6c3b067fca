namespace Herald.Diagnostics;

/// <summary>
/// Lets one log line through per interval and counts the ones it held back, so that a flood of
/// bad requests or refused connections (anyone can send them, as fast as they like) costs a line
/// every few seconds instead of filling the disk.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval)
{
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private long _nextMs = long.MinValue;
    private long _suppressed;

    /// <summary>True when a line may be written now; <paramref name="suppressed"/> is how many were held back since the last one.</summary>
    public bool TryEnter(out long suppressed)
    {
        var now = Environment.TickCount64;
        var next = Volatile.Read(ref _nextMs);
        if (now < next || Interlocked.CompareExchange(ref _nextMs, now + _intervalMs, next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }

        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }
}
