using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// <c>fanout</c>: N subscribers on one channel; once every subscription is acknowledged, a
/// publisher sends timestamped payloads for S seconds; the subscribers then drain up to the
/// channel's top. Reports deliveries/s, publish→receive latency, gaps, duplicates and messages per
/// frame. With <c>--processes K</c> the subscribers are spread over K processes (the first also
/// publishes) and their results summed.
/// </summary>
internal static class Fanout
{
    public static async Task<FanoutReport> RunAsync(Options options)
    {
        var processes = Math.Max(1, options.Int("processes", 1));
        var seconds = options.Double("seconds", 10);
        var serverCore = options.Int("server-core", 0);
        var probe = options.Get("server-pid") is { } pid ? new ServerProbe(int.Parse(pid, CultureInfo.InvariantCulture)) : null;
        var report = new FanoutReport
        {
            Transport = options.Required("transport"),
            Subscribers = options.Int("subscribers", 100),
            Rate = options.Get("rate", "max"),
            Seconds = seconds,
            Processes = processes,
            GcMode = probe?.GcMode(),
        };

        var shares = new List<FanoutShare>();
        if (processes == 1)
        {
            var cpu = probe?.CpuSeconds() ?? 0;
            var core = ServerProbe.CoreTicks(serverCore);
            var share = await RunShareAsync(options, publisher: true, waitForGo: null);
            report.Measure(probe, cpu, core, serverCore, share.ActiveSeconds, share.Deliveries);
            shares.Add(share);
        }
        else
        {
            var channel = options.Get("channel") ?? $"bench:fan-{Environment.ProcessId}-{DateTime.UtcNow.Ticks % 1_000_000}";
            var children = new List<Child>();
            try
            {
                for (var i = 0; i < processes; i++)
                {
                    var count = report.Subscribers / processes + (i < report.Subscribers % processes ? 1 : 0);
                    children.Add(Child.Start(Child.ChildArgs(options, "fanout", i, processes, new Dictionary<string, string?>
                    {
                        ["subscribers"] = count.ToString(CultureInfo.InvariantCulture),
                        ["channel"] = channel,
                        ["publisher"] = i == 0 ? "true" : "false",
                    })));
                }

                foreach (var child in children)
                    _ = await child.WaitForAsync("READY", TimeSpan.FromSeconds(180)) ?? throw new InvalidOperationException("A generator process exited before it was ready.");
                var cpu = probe?.CpuSeconds() ?? 0;
                var core = ServerProbe.CoreTicks(serverCore);
                var started = Stopwatch.StartNew();
                foreach (var child in children)
                    await child.SendAsync("go");
                foreach (var child in children)
                {
                    var json = await child.WaitForAsync("RESULT", TimeSpan.FromSeconds(seconds + 120));
                    if (json is not null)
                        shares.Add(JsonSerializer.Deserialize(json, LoadGenJson.Default.FanoutShare)!);
                    await child.ExitAsync();
                }

                var active = shares.Count > 0 ? shares.Max(s => s.ActiveSeconds) : started.Elapsed.TotalSeconds;
                report.Measure(probe, cpu, core, serverCore, active, shares.Sum(s => s.Deliveries));
            }
            finally
            {
                foreach (var child in children)
                    child.Dispose();
            }
        }

        report.Merge(shares);
        return report;
    }

    /// <summary>One process's part: its subscribers, and the publisher when <paramref name="publisher"/>.</summary>
    public static async Task<FanoutShare> RunShareAsync(Options options, bool publisher, Func<Task>? waitForGo)
    {
        var kind = Transports.Parse(options.Required("transport"));
        var socketIo = kind == TransportKind.SocketIo;
        var count = options.Int("subscribers", 100);
        var seconds = options.Double("seconds", 10);
        var rateText = options.Get("rate", "max");
        var rate = rateText == "max" ? 0 : double.Parse(rateText, CultureInfo.InvariantCulture);
        // Socket.IO: one publishing connection (SocketIoClient.Publisher says why), one room.
        var workers = options.Int("publishers", socketIo ? 1 : rate > 0 ? 2 : 4);
        var channel = options.Get("channel") ?? (socketIo ? "bench" : $"bench:fan-{Environment.ProcessId}-{DateTime.UtcNow.Ticks % 1_000_000}");
        var apiKey = options.Get("api-key") ?? Environment.GetEnvironmentVariable("HERALD_API_KEY");
        if (apiKey is null && !socketIo)
            throw new ArgumentException("--api-key (or HERALD_API_KEY) is needed to publish.");
        var connector = Connector.Parse(options.Get("source-ips"));
        using var endpoint = new Endpoint(options.Required("url"), connector, 25);
        using var crowd = new Crowd(kind, endpoint, 4096);
        var share = new FanoutShare();

        await crowd.OpenAsync(count, _ => channel, options.Double("open-rate", 2000), 256, TimeSpan.FromSeconds(options.Double("open-timeout", 120)));
        share.Acked = crowd.Acked;
        share.Failed = crowd.Failed;
        if (share.Failed > 0)
            Console.Error.WriteLine($"{share.Failed} of {count} subscriptions failed: {crowd.FirstError()}");
        var initial = crowd.Subscribers.ToDictionary(s => s, s => s.Last);

        if (waitForGo is not null)
            await waitForGo();

        var cpu = Environment.CpuUsage.TotalTime;
        var go = Stopwatch.GetTimestamp();
        Latency.Reset();
        Latency.Recording = true;
        if (publisher)
        {
            var payload = options.Int("payload", 100);
            var publishing = kind switch
            {
                TransportKind.SignalR => SignalRClient.Publisher(connector, endpoint.Base, channel, payload),
                TransportKind.SocketIo => SocketIoClient.Publisher(connector, endpoint.Base, channel, payload, await SocketIoClient.TopAsync(endpoint, channel)),
                _ => Publisher.ForHerald(connector, endpoint.Base, channel, apiKey!, payload),
            };
            await publishing.RunAsync(rate, workers, TimeSpan.FromSeconds(seconds));
            share.Published = publishing.Published;
            share.PublishErrors = publishing.Errors;
            share.PublishSeconds = Stopwatch.GetElapsedTime(go).TotalSeconds;
            if (publishing.FirstError is not null)
                Console.Error.WriteLine($"{publishing.Errors} publishes failed: {publishing.FirstError}");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds + 0.5));
        }

        share.Top = kind switch
        {
            TransportKind.SignalR => await SignalRClient.TopAsync(endpoint, channel),
            TransportKind.SocketIo => await SocketIoClient.TopAsync(endpoint, channel),
            _ => await TopAsync(endpoint, channel, apiKey!),
        };

        await DrainAndTallyAsync(options, crowd, share, initial, go, cpu);
        share.Histogram = Encode(Latency.Merge());
        await crowd.CloseAsync();
        return share;
    }

    /// <summary>
    /// After publishing: waits until every open subscriber reached <c>share.Top</c> (or nothing
    /// arrived for 3 s, or <c>--drain</c> passed), then adds up deliveries, gaps, duplicates and
    /// losses into <paramref name="share"/>. Shared by every target's fan-out.
    /// </summary>
    internal static async Task DrainAndTallyAsync(Options options, Crowd crowd, FanoutShare share, Dictionary<Subscriber, long> initial, long go, TimeSpan cpu)
    {
        // Drain: until every open subscriber reached the top, or nothing arrived for 3 s, or --drain passed.
        var drainUntil = Stopwatch.GetTimestamp() + (long)(options.Double("drain", 20) * Stopwatch.Frequency);
        long lastTotal = -1, lastChange = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < drainUntil)
        {
            var open = crowd.Subscribers.Where(s => s.Acked.Task is { IsCompletedSuccessfully: true, Result: true } && !s.Ended).ToList();
            if (open.All(s => s.Last >= share.Top))
                break;
            var total = crowd.Subscribers.Sum(s => s.Received);
            if (total != lastTotal)
            {
                lastTotal = total;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > TimeSpan.FromSeconds(3))
            {
                break;
            }

            await Task.Delay(50);
        }

        Latency.Recording = false;
        var lastReceived = crowd.Subscribers.Select(s => s.LastReceivedTicks).DefaultIfEmpty(go).Max();
        share.ActiveSeconds = Math.Max(share.PublishSeconds, (double)(Math.Max(lastReceived, go) - go) / Stopwatch.Frequency);
        share.GeneratorCpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        foreach (var s in crowd.Subscribers)
        {
            share.Deliveries += s.Received;
            share.Gaps += s.Gaps;
            share.Duplicates += s.Duplicates;
            share.Frames += s.Frames;
            share.FramePublications += s.FramePublications;
            if (s.Acked.Task is { IsCompletedSuccessfully: true, Result: true })
            {
                share.Expected += share.Top - initial[s];
                share.Missing += Math.Max(0, share.Top - s.Last);
                if (s.Ended)
                    share.Disconnected++;
            }
        }

        share.FirstError = crowd.FirstError();
    }

    private static async Task<long> TopAsync(Endpoint endpoint, string channel, string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Uri($"/v1/channels/{channel}/messages?reverse=true&limit=1"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await endpoint.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return Subscriber.Number(body, "\"top\":"u8);
    }

    /// <summary>The histogram as "value:count" pairs (values at bucket resolution), to merge across processes.</summary>
    internal static string Encode(LongHistogram histogram) =>
        string.Join(',', histogram.RecordedValues().Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.ValueIteratedTo}:{v.CountAtValueIteratedTo}")));

    public static void AddTo(LongHistogram histogram, string encoded)
    {
        foreach (var pair in encoded.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            histogram.RecordValueWithCount(
                long.Parse(pair.AsSpan(0, colon), CultureInfo.InvariantCulture),
                long.Parse(pair.AsSpan(colon + 1), CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>What one generator process measured.</summary>
internal sealed class FanoutShare
{
    public int Acked { get; set; }
    public int Failed { get; set; }
    public int Disconnected { get; set; }
    public long Published { get; set; }
    public long PublishErrors { get; set; }
    public double PublishSeconds { get; set; }
    public long Top { get; set; }
    public long Expected { get; set; }
    public long Deliveries { get; set; }
    public long Missing { get; set; }
    public long Gaps { get; set; }
    public long Duplicates { get; set; }
    public long Frames { get; set; }
    public long FramePublications { get; set; }
    public double ActiveSeconds { get; set; }
    public double GeneratorCpuSeconds { get; set; }
    public string? FirstError { get; set; }
    public string Histogram { get; set; } = "";
}

/// <summary>The run's summary: the shares summed, their latency histograms merged.</summary>
internal sealed class FanoutReport
{
    public string Transport { get; set; } = "";
    public int Subscribers { get; set; }
    public string Rate { get; set; } = "";
    public double Seconds { get; set; }
    public int Processes { get; set; }
    public string? GcMode { get; set; }
    public int Acked { get; set; }
    public int Failed { get; set; }
    public int Disconnected { get; set; }
    public long Published { get; set; }
    public double PublishedPerSecond { get; set; }
    public long PublishErrors { get; set; }
    public long Expected { get; set; }
    public long Deliveries { get; set; }
    public double DeliveriesPerSecond { get; set; }
    public long Missing { get; set; }
    public long Gaps { get; set; }
    public long Duplicates { get; set; }
    public double PublicationsPerFrame { get; set; }
    public double LatencyP50Ms { get; set; }
    public double LatencyP99Ms { get; set; }
    public double LatencyP999Ms { get; set; }
    public double LatencyMaxMs { get; set; }
    public double ActiveSeconds { get; set; }
    public double ServerCpuPercent { get; set; }
    public double ServerCpuMicrosPerDelivery { get; set; }
    public double ServerCoreBusyPercent { get; set; }
    public double GeneratorCpuPercent { get; set; }
    public string? FirstError { get; set; }

    public bool Clean => Failed == 0 && Disconnected == 0 && Gaps == 0 && Duplicates == 0 && Missing == 0
        && PublishErrors == 0 && Published > 0 && Deliveries == Expected;

    /// <summary>The server's CPU over the run, and how busy its core was in all (others' work on that core shows as the difference).</summary>
    public void Measure(ServerProbe? probe, double cpuBefore, (long Busy, long Total) coreBefore, int core, double seconds, long deliveries)
    {
        if (probe is null || seconds <= 0)
            return;
        var cpu = probe.CpuSeconds() - cpuBefore;
        var after = ServerProbe.CoreTicks(core);
        ServerCpuPercent = Math.Round(100 * cpu / seconds, 1);
        ServerCpuMicrosPerDelivery = deliveries > 0 ? Math.Round(cpu * 1e6 / deliveries, 2) : 0;
        ServerCoreBusyPercent = after.Total > coreBefore.Total ? Math.Round(100.0 * (after.Busy - coreBefore.Busy) / (after.Total - coreBefore.Total), 1) : 0;
    }

    public void Merge(List<FanoutShare> shares)
    {
        var latency = new LongHistogram(60_000_000, 3);
        foreach (var share in shares)
        {
            Acked += share.Acked;
            Failed += share.Failed;
            Disconnected += share.Disconnected;
            Published += share.Published;
            PublishErrors += share.PublishErrors;
            Expected += share.Expected;
            Deliveries += share.Deliveries;
            Missing += share.Missing;
            Gaps += share.Gaps;
            Duplicates += share.Duplicates;
            ActiveSeconds = Math.Max(ActiveSeconds, share.ActiveSeconds);
            FirstError ??= share.FirstError;
            if (share.Histogram.Length > 0)
                Fanout.AddTo(latency, share.Histogram);
        }

        var publishSeconds = shares.Select(s => s.PublishSeconds).DefaultIfEmpty(0).Max();
        PublishedPerSecond = publishSeconds > 0 ? Math.Round(Published / publishSeconds) : 0;
        DeliveriesPerSecond = ActiveSeconds > 0 ? Math.Round(Deliveries / ActiveSeconds) : 0;
        var frames = shares.Sum(s => s.Frames);
        PublicationsPerFrame = frames > 0 ? Math.Round((double)shares.Sum(s => s.FramePublications) / frames, 2) : 0;
        GeneratorCpuPercent = ActiveSeconds > 0 ? Math.Round(100 * shares.Sum(s => s.GeneratorCpuSeconds) / ActiveSeconds, 1) : 0;
        if (latency.TotalCount > 0)
        {
            LatencyP50Ms = latency.GetValueAtPercentile(50) / 1000.0;
            LatencyP99Ms = latency.GetValueAtPercentile(99) / 1000.0;
            LatencyP999Ms = latency.GetValueAtPercentile(99.9) / 1000.0;
            LatencyMaxMs = latency.GetMaxValue() / 1000.0;
        }
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Transport}: {Acked} subscribers, published {Published} ({PublishedPerSecond}/s, rate {Rate}), delivered {Deliveries}/{Expected} "
        + $"= {DeliveriesPerSecond}/s over {ActiveSeconds:F1} s; latency p50 {LatencyP50Ms} ms, p99 {LatencyP99Ms} ms, p99.9 {LatencyP999Ms} ms, max {LatencyMaxMs} ms; "
        + $"{PublicationsPerFrame} publications/frame; gaps {Gaps}, duplicates {Duplicates}, missing {Missing}, disconnected {Disconnected}, failed {Failed}; "
        + $"server CPU {ServerCpuPercent} % ({ServerCpuMicrosPerDelivery} µs/delivery; its core {ServerCoreBusyPercent} % busy in all), generator CPU {GeneratorCpuPercent} %");
}
