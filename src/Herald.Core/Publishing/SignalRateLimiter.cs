using System.Collections.Concurrent;

namespace Herald.Publishing;

/// <summary>
/// Token buckets per sender and channel: <c>SignalsPerSecond</c> tokens, refilled at that rate. A
/// WebSocket connection keeps its own (its key is the channel); the HTTP endpoint shares one keyed
/// by the caller and the channel, trimmed of idle (full) buckets when it grows past
/// <see cref="TrimAbove"/> keys.
/// </summary>
public sealed class SignalRateLimiter(TimeProvider? time = null)
{
    /// <summary>Keys kept before idle buckets are dropped.</summary>
    public const int TrimAbove = 10_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private long _nextTrim;

    /// <summary>Takes one token of <paramref name="key"/>'s bucket (capacity and rate <paramref name="perSecond"/>); false when it is empty.</summary>
    public bool TryTake(string key, int perSecond)
    {
        var now = _time.GetTimestamp();
        // At most one sweep a second: with more active senders than TrimAbove, a sweep per signal would cost O(keys) each.
        var due = Volatile.Read(ref _nextTrim);
        if (_buckets.Count > TrimAbove && now >= due && Interlocked.CompareExchange(ref _nextTrim, now + _time.TimestampFrequency, due) == due)
            Trim(now, perSecond);
        var bucket = _buckets.GetOrAdd(key, static (_, state) => new Bucket(state.perSecond, state.now), (perSecond, now));
        return bucket.TryTake(now, perSecond, _time.TimestampFrequency);
    }

    private void Trim(long now, int perSecond)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if (bucket.IsFull(now, perSecond, _time.TimestampFrequency))
                _buckets.TryRemove(key, out _);
        }
    }

    private sealed class Bucket(double tokens, long last)
    {
        private readonly Lock _lock = new();
        private double _tokens = tokens;
        private long _last = last;

        public bool TryTake(long now, int perSecond, long frequency)
        {
            lock (_lock)
            {
                Refill(now, perSecond, frequency);
                if (_tokens < 1)
                    return false;
                _tokens -= 1;
                return true;
            }
        }

        public bool IsFull(long now, int perSecond, long frequency)
        {
            lock (_lock)
            {
                Refill(now, perSecond, frequency);
                return _tokens >= perSecond;
            }
        }

        private void Refill(long now, int perSecond, long frequency)
        {
            _tokens = Math.Min(perSecond, _tokens + (double)(now - _last) / frequency * perSecond);
            _last = now;
        }
    }
}
