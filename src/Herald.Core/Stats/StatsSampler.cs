using System.Text.Json;
using Herald.Hub;
using Herald.Transports;
using Herald.Transports.LongPoll;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.Stats;

/// <summary>
/// Samples the node's counters once per <see cref="StatsOptions.Interval"/> to turn totals into
/// rates, and hands every open stats stream the same serialized snapshot: one top-channels scan
/// and one serialization per interval, however many dashboards watch.
/// </summary>
/// <remarks>
/// A sample reads a dozen counters (no scan, no lock) while nobody watches; the top-channels scan
/// runs only for a stream or a <c>GET</c>.
/// </remarks>
internal sealed class StatsSampler : BackgroundService
{
    private readonly ChannelHub _hub;
    private readonly Node _node;
    private readonly ConnectionRegistry _registry;
    private readonly PollLimiter _limiter;
    private readonly PollCounters _polls;
    private readonly StatsOptions _options;
    private readonly TimeProvider _time;
    private readonly long _started;
    private TaskCompletionSource<byte[]> _next = NewSignal();
    private StatsTotals _previous;
    private long _previousAt;
    private volatile Sample _last;
    private int _streams;

    public StatsSampler(Node node, ConnectionRegistry registry, PollLimiter limiter, PollCounters polls, IOptions<HeraldOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(node);
        _node = node;
        _hub = node.Hub;
        _registry = registry;
        _limiter = limiter;
        _polls = polls;
        _options = options.Value.Stats;
        _time = time;
        _started = _previousAt = time.GetTimestamp();
        _previous = ReadTotals();
        _last = new Sample(StatsRates.Zero, 0);
    }

    public StatsOptions Options => _options;

    /// <summary>The node's state now, with the rates of the last completed interval.</summary>
    public StatsSnapshot Snapshot()
    {
        var last = _last;
        var now = _time.GetTimestamp();
        var connections = new ConnectionCounts(_registry.CountOf("ws"), _registry.CountOf("sse"), _registry.CountOf("stream"), _limiter.Held);
        var top = _hub.TopChannels(_options.TopChannels);
        return new StatsSnapshot(
            TruncateToMilliseconds(_time.GetUtcNow().UtcDateTime),
            Math.Round(_time.GetElapsedTime(_started, now).TotalSeconds, 3),
            Math.Round(last.IntervalSeconds, 3),
            connections,
            last.Rates,
            ReadTotals(),
            _hub.ChannelCount,
            top);
    }

    public byte[] SnapshotUtf8() => JsonSerializer.SerializeToUtf8Bytes(Snapshot(), StatsJsonContext.Default.StatsSnapshot);

    /// <summary>The snapshot of the next sample, serialized; the same array for every stream.</summary>
    public Task<byte[]> NextAsync(CancellationToken cancellationToken) => Volatile.Read(ref _next).Task.WaitAsync(cancellationToken);

    /// <summary>Takes one of the <see cref="StatsOptions.MaxStreams"/> stream slots; false when none is free.</summary>
    public bool TryOpenStream()
    {
        if (Interlocked.Increment(ref _streams) <= _options.MaxStreams)
            return true;
        Interlocked.Decrement(ref _streams);
        return false;
    }

    public void CloseStream() => Interlocked.Decrement(ref _streams);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                TakeSample();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes the interval that ended now: its rates become the current ones, and watching streams get a snapshot.</summary>
    internal void TakeSample()
    {
        var totals = ReadTotals();
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_previousAt, now).TotalSeconds;
        if (seconds > 0)
        {
            _last = new Sample(
                new StatsRates(
                    PerSecond(totals.Publications - _previous.Publications, seconds),
                    PerSecond(totals.Deliveries - _previous.Deliveries, seconds),
                    PerSecond(totals.ShortPolls - _previous.ShortPolls, seconds),
                    PerSecond(totals.LongPolls - _previous.LongPolls, seconds)),
                seconds);
        }

        _previous = totals;
        _previousAt = now;
        if (Volatile.Read(ref _streams) > 0)
            Interlocked.Exchange(ref _next, NewSignal()).TrySetResult(SnapshotUtf8());
    }

    private StatsTotals ReadTotals() =>
        new(_node.PublicationCount, _hub.DeliveryCount, _hub.SlowConsumerDisconnectCount, _polls.ShortPolls, _polls.LongPolls);

    // Milliseconds, as every other time Herald answers.
    private static DateTime TruncateToMilliseconds(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    private static double PerSecond(long delta, double seconds) => Math.Round(delta / seconds, 2);

    private static TaskCompletionSource<byte[]> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Sample(StatsRates Rates, double IntervalSeconds);
}
