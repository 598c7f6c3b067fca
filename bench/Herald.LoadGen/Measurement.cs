using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>What one generator process counted in one step (fan-out) or round (chat).</summary>
internal class Share
{
    public long Expected { get; set; }
    public long Deliveries { get; set; }
    public long Missing { get; set; }
    public long Gaps { get; set; }
    public long Duplicates { get; set; }
    public long Resets { get; set; }
    public int Disconnected { get; set; }
    public long LastReceivedTicks { get; set; }
    public double GeneratorCpuSeconds { get; set; }
    public string? FirstError { get; set; }
    public string Histogram { get; set; } = "";

    /// <summary>Reads one <c>RESULT {json}</c> line from every child (a child that exited gives none).</summary>
    public static async Task<List<T>> CollectAsync<T>(List<Child> children, JsonTypeInfo<T> type, TimeSpan timeout)
    {
        var shares = new List<T>();
        foreach (var child in children)
        {
            if (await child.WaitForAsync("RESULT", timeout) is { } json)
                shares.Add(JsonSerializer.Deserialize(json, type)!);
        }

        return shares;
    }
}

/// <summary>The shares of one step or round added up, with the server and the generator measured around it.</summary>
internal abstract class Measurement
{
    public long Expected { get; set; }
    public long Deliveries { get; set; }
    public double DeliveriesPerSecond { get; set; }
    public long Missing { get; set; }
    public long Gaps { get; set; }
    public long Duplicates { get; set; }
    public long Resets { get; set; }
    public int Disconnected { get; set; }
    public double LatencyP50Ms { get; set; }
    public double LatencyP99Ms { get; set; }
    public double LatencyP999Ms { get; set; }
    public double LatencyMaxMs { get; set; }
    public double ActiveSeconds { get; set; }
    public double ServerCpuPercent { get; set; }
    public double ServerCpuMicrosPerDelivery { get; set; }
    public double ServerRssMiB { get; set; }
    public double GeneratorCpuPercent { get; set; }
    public double GeneratorCpuMicrosPerDelivery { get; set; }
    public string? FirstError { get; set; }

    public bool Clean => Gaps == 0 && Duplicates == 0 && Missing == 0 && Disconnected == 0 && Deliveries > 0;

    /// <summary>
    /// Sums the shares; deliveries/s over the time from <paramref name="start"/> to the last delivery
    /// (at least <paramref name="minimumSeconds"/>, the sending time), latency from the merged histograms.
    /// </summary>
    public void Add(IReadOnlyCollection<Share> shares, long start, double minimumSeconds)
    {
        var latency = Latency.Create();
        foreach (var share in shares)
        {
            Expected += share.Expected;
            Deliveries += share.Deliveries;
            Missing += share.Missing;
            Gaps += share.Gaps;
            Duplicates += share.Duplicates;
            Resets += share.Resets;
            Disconnected += share.Disconnected;
            FirstError ??= share.FirstError;
            if (share.Histogram.Length > 0)
                Latency.AddTo(latency, share.Histogram);
        }

        var last = shares.Select(s => s.LastReceivedTicks).DefaultIfEmpty(start).Max();
        ActiveSeconds = Math.Round(Math.Max(minimumSeconds, (double)(last - start) / Stopwatch.Frequency), 3);
        DeliveriesPerSecond = ActiveSeconds > 0 ? Math.Round(Deliveries / ActiveSeconds) : 0;
        (LatencyP50Ms, LatencyP99Ms, LatencyP999Ms, LatencyMaxMs) = Latency.Percentiles(latency);
    }

    /// <summary>CPU of the server and of the generator (its processes' seconds, this one's included) over <paramref name="wall"/> seconds.</summary>
    public void Measure(ServerProbe? probe, double serverCpuBefore, double generatorCpuSeconds, double wall)
    {
        GeneratorCpuPercent = Math.Round(100 * generatorCpuSeconds / wall, 1);
        // The generator's own cost per delivery (publisher included): 10^6 / this is what one core of it can receive.
        GeneratorCpuMicrosPerDelivery = Deliveries > 0 ? Math.Round(generatorCpuSeconds * 1e6 / Deliveries, 3) : 0;
        if (probe is null)
            return;
        var cpu = probe.CpuSeconds() - serverCpuBefore;
        ServerCpuPercent = Math.Round(100 * cpu / wall, 1);
        ServerCpuMicrosPerDelivery = Deliveries > 0 ? Math.Round(cpu * 1e6 / Deliveries, 2) : 0;
        ServerRssMiB = Math.Round(probe.RssKiB() / 1024.0, 1);
    }
}
