using Herald.Publishing;

namespace Herald.Tests.Publishing;

public sealed class SignalRateLimiterTests
{
    /// <summary>A clock that moves only when told.</summary>
    private sealed class StepClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    [Fact]
    public void A_bucket_holds_SignalsPerSecond_and_refills_at_that_rate()
    {
        var clock = new StepClock();
        var limiter = new SignalRateLimiter(clock);
        for (var i = 0; i < 10; i++)
            Assert.True(limiter.TryTake("k", 10), $"token {i + 1} of 10");
        Assert.False(limiter.TryTake("k", 10));

        clock.Ticks += TimeSpan.TicksPerMillisecond * 99;
        Assert.False(limiter.TryTake("k", 10));
        clock.Ticks += TimeSpan.TicksPerMillisecond;
        Assert.True(limiter.TryTake("k", 10));
        Assert.False(limiter.TryTake("k", 10));

        // Another key has its own bucket; a long pause refills to the capacity, never beyond.
        Assert.True(limiter.TryTake("other", 10));
        clock.Ticks += TimeSpan.TicksPerHour;
        for (var i = 0; i < 10; i++)
            Assert.True(limiter.TryTake("k", 10));
        Assert.False(limiter.TryTake("k", 10));
    }

    [Fact]
    public void Idle_buckets_are_dropped_once_there_are_many_keys()
    {
        var clock = new StepClock();
        var limiter = new SignalRateLimiter(clock);
        for (var i = 0; i <= SignalRateLimiter.TrimAbove; i++)
            limiter.TryTake($"k{i}", 1);
        Assert.False(limiter.TryTake("k0", 1));
        clock.Ticks += TimeSpan.TicksPerSecond;

        // The next take trims every full bucket: k0 starts again full, as it would have anyway.
        Assert.True(limiter.TryTake("k0", 1));
        Assert.False(limiter.TryTake("k0", 1));
    }
}
