using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// One subscribed connection's counters. Only its own receive loop writes them, so they need no
/// locks; the process sums them when the run ends.
/// </summary>
internal sealed class Subscriber(string channel)
{
    public string Channel { get; } = channel;

    /// <summary>Completes true when the server acknowledged the subscription, false when the connection failed first.</summary>
    public TaskCompletionSource<bool> Acked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Last { get; set; } = -1;

    public long Received { get; set; }

    public long Gaps { get; set; }

    public long Duplicates { get; set; }

    /// <summary>WebSocket frames (SSE/NDJSON: socket reads) that carried at least one publication, and the publications in them.</summary>
    public long Frames { get; set; }

    public long FramePublications { get; set; }

    public long LastReceivedTicks { get; set; }

    public bool Ended { get; set; }

    public string? Error { get; set; }

    public Task? Task { get; set; }

    /// <summary>A message the server sent that needs an answer (WebSocket ping).</summary>
    public bool PingPending { get; set; }

    /// <summary>One JSON message: a publication, a subscribe reply, a heartbeat, an error or a goodbye.</summary>
    public bool OnMessage(ReadOnlySpan<byte> json, long now)
    {
        var head = json[..Math.Min(json.Length, 256)];
        if (head.IndexOf("\"type\":\"publication\""u8) >= 0)
        {
            OnPublication(json, now);
            return true;
        }

        if (head.IndexOf("\"type\":\"ping\""u8) >= 0)
            PingPending = true;
        else if (head.IndexOf("\"type\":\"subscribed\""u8) >= 0)
            OnSubscribed(json);
        else if (head.IndexOf("\"type\":\"error\""u8) >= 0 || head.IndexOf("\"type\":\"disconnect\""u8) >= 0)
            Error ??= Encoding.UTF8.GetString(json[..Math.Min(json.Length, 300)]);
        return false;
    }

    public void OnSubscribed(ReadOnlySpan<byte> json)
    {
        if (Last < 0)
            Last = Number(json, "\"offset\":"u8);
        Acked.TrySetResult(true);
    }

    public void OnPublication(ReadOnlySpan<byte> json, long now)
    {
        var offset = Number(json, "\"offset\":"u8);
        if (Last >= 0 && offset != Last + 1)
        {
            if (offset > Last + 1)
                Gaps += offset - Last - 1;
            else
                Duplicates++;
        }

        if (offset > Last)
            Last = offset;
        Received++;
        LastReceivedTicks = now;
        var sent = Number(json, "\"data\":{\"t\":"u8);
        if (sent > 0)
            Latency.Record(now - sent);
    }

    /// <summary>The non-negative integer right after <paramref name="key"/>, or -1.</summary>
    public static long Number(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var at = json.IndexOf(key);
        if (at < 0)
            return -1;
        return Utf8Parser.TryParse(json[(at + key.Length)..], out long value, out _) ? value : -1;
    }
}

/// <summary>Publish→receive latency: one histogram per thread, merged when the run ends.</summary>
internal static class Latency
{
    private static readonly ConcurrentBag<LongHistogram> s_all = [];
    [ThreadStatic] private static LongHistogram? t_histogram;

    /// <summary>Only deliveries while this is set are recorded (not the drain of a previous phase).</summary>
    public static volatile bool Recording;

    public static void Record(long stopwatchTicks)
    {
        if (!Recording)
            return;
        var histogram = t_histogram;
        if (histogram is null)
        {
            // 60 s in microseconds, 3 significant digits.
            t_histogram = histogram = new LongHistogram(60_000_000, 3);
            s_all.Add(histogram);
        }

        histogram.RecordValue(Math.Clamp(stopwatchTicks * 1_000_000 / Stopwatch.Frequency, 1, 60_000_000));
    }

    public static void Reset()
    {
        foreach (var histogram in s_all)
            histogram.Reset();
    }

    public static LongHistogram Merge()
    {
        var merged = new LongHistogram(60_000_000, 3);
        foreach (var histogram in s_all)
            merged.Add(histogram);
        return merged;
    }
}
