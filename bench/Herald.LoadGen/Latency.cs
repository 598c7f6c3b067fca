using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// Publish→receive latency in microseconds: one histogram per thread (no locks on the receive
/// path), merged when a step ends. Publisher and subscribers run on one machine, so the
/// subscriber's <see cref="Stopwatch.GetTimestamp"/> minus the timestamp in the message is the
/// latency (CLOCK_MONOTONIC, the same in every process).
/// </summary>
internal static class Latency
{
    // 60 s in microseconds, 3 significant digits.
    private const long Highest = 60_000_000;
    private static readonly ConcurrentBag<LongHistogram> s_all = [];
    [ThreadStatic] private static LongHistogram? t_histogram;

    /// <summary>Only deliveries while this is set are recorded (not a warm-up, not the drain of an earlier step).</summary>
    public static volatile bool Recording;

    public static LongHistogram Create() => new(Highest, 3);

    public static void Record(long stopwatchTicks)
    {
        if (!Recording)
            return;
        var histogram = t_histogram;
        if (histogram is null)
        {
            t_histogram = histogram = Create();
            s_all.Add(histogram);
        }

        histogram.RecordValue(Micros(stopwatchTicks));
    }

    /// <summary>Stopwatch ticks as whole microseconds, within what a histogram holds.</summary>
    public static long Micros(long stopwatchTicks) => Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, Highest);

    public static void Reset()
    {
        foreach (var histogram in s_all)
            histogram.Reset();
    }

    public static LongHistogram Merge()
    {
        var merged = Create();
        foreach (var histogram in s_all)
            merged.Add(histogram);
        return merged;
    }

    /// <summary>The histogram as "value:count" pairs (values at bucket resolution), to merge across processes.</summary>
    public static string Encode(LongHistogram histogram) =>
        string.Join(',', histogram.RecordedValues().Select(v => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{v.ValueIteratedTo}:{v.CountAtValueIteratedTo}")));

    public static void AddTo(LongHistogram histogram, string encoded)
    {
        foreach (var pair in encoded.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            histogram.RecordValueWithCount(
                long.Parse(pair.AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture),
                long.Parse(pair.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>p50, p99, p99.9 and max in milliseconds.</summary>
    public static (double P50, double P99, double P999, double Max) Percentiles(LongHistogram histogram) =>
        histogram.TotalCount == 0
            ? (0, 0, 0, 0)
            : (histogram.GetValueAtPercentile(50) / 1000.0, histogram.GetValueAtPercentile(99) / 1000.0,
               histogram.GetValueAtPercentile(99.9) / 1000.0, histogram.GetMaxValue() / 1000.0);
}
