using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Herald.LoadGen.Wire;

namespace Herald.LoadGen;

/// <summary>
/// <c>shortpoll</c>: C clients, each one keep-alive connection, poll Herald back to back while a
/// publisher publishes at <c>--rate</c> to the channel they poll:
/// <c>--mode poll</c> asks <c>GET /v1/poll?wait=0</c> with the last answer's cursor;
/// <c>--mode history</c> asks <c>GET /v1/channels/{ch}/messages?after=N</c> with the last ETag in
/// <c>If-None-Match</c>, so an unchanged channel costs a bodiless 304. Reports requests/s (and how
/// many were 304), publications received/s, request latency and publish→receive latency, and
/// gaps/duplicates per client by offset. A warm-up of the same precedes the measured seconds.
/// </summary>
internal static class ShortPoll
{
    public static async Task<int> RunAsync(Options options)
    {
        var target = Target.Parse(options);
        var mode = options.Get("mode", "poll");
        var pollers = options.Int("pollers", 64);
        var seconds = options.Double("seconds", 5);
        var rate = options.Double("rate", 100);
        var apiKey = options.Get("api-key") ?? Environment.GetEnvironmentVariable("HERALD_API_KEY");
        var channel = options.Get("channel") ?? $"bench:poll-{Environment.ProcessId}";
        var probe = options.Get("server-pid") is { } pid ? new ServerProbe(int.Parse(pid, CultureInfo.InvariantCulture)) : null;
        using var endpoint = new Endpoint(options.Required("url"), Connector.Parse(options.Get("source-ips")));
        using var publisher = new Publisher(target, endpoint, channel, apiKey, options.Int("payload", 100), 4);
        _ = await publisher.RunAsync(10, TimeSpan.FromSeconds(0.5)); // the channel exists before the first poll

        using var stop = new CancellationTokenSource();
        var clients = new List<Poller>();
        for (var i = 0; i < pollers; i++)
            clients.Add(new Poller(new Subscriber(channel), mode == "history"));
        var tasks = clients.Select(c => Task.Run(() => c.RunAsync(endpoint, stop.Token))).ToList();

        // Warm-up, then the measured part: counters marked, latency recorded.
        _ = await publisher.RunAsync(rate, TimeSpan.FromSeconds(options.Double("warmup-seconds", 3)));
        var marks = clients.Select(c => (c.Requests, c.NotModified, c.Subscriber.Received, c.Subscriber.Gaps, c.Subscriber.Duplicates)).ToArray();
        Poller.Reset();
        Latency.Reset();
        Latency.Recording = true;
        var serverCpu = probe?.CpuSeconds() ?? 0;
        var generatorCpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var published = await publisher.RunAsync(rate, TimeSpan.FromSeconds(seconds));
        var wall = watch.Elapsed.TotalSeconds;
        Latency.Recording = false;
        var report = new ShortPollReport
        {
            Target = target.System,
            Mode = mode,
            Pollers = pollers,
            Seconds = Math.Round(wall, 3),
            Offered = rate,
            Published = published.Published,
            GeneratorCpuPercent = Math.Round(100 * (Environment.CpuUsage.TotalTime - generatorCpu).TotalSeconds / wall, 1),
        };
        for (var i = 0; i < clients.Count; i++)
        {
            var c = clients[i];
            report.Requests += c.Requests - marks[i].Requests;
            report.NotModified += c.NotModified - marks[i].NotModified;
            report.Messages += c.Subscriber.Received - marks[i].Received;
            report.Gaps += c.Subscriber.Gaps - marks[i].Gaps;
            report.Duplicates += c.Subscriber.Duplicates - marks[i].Duplicates;
            report.FirstError ??= c.Subscriber.Error;
        }

        await stop.CancelAsync();
        foreach (var c in clients)
            c.Dispose();
        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(5000));
        report.RequestsPerSecond = Math.Round(report.Requests / wall);
        report.MessagesPerSecond = Math.Round(report.Messages / wall);
        (report.RequestP50Ms, report.RequestP99Ms, _, _) = Latency.Percentiles(Poller.Merge());
        (report.LatencyP50Ms, report.LatencyP99Ms, _, _) = Latency.Percentiles(Latency.Merge());
        if (probe is not null)
        {
            var cpu = probe.CpuSeconds() - serverCpu;
            report.ServerCpuPercent = Math.Round(100 * cpu / wall, 1);
            report.ServerCpuMicrosPerRequest = report.Requests > 0 ? Math.Round(cpu * 1e6 / report.Requests, 2) : 0;
        }

        Console.Error.WriteLine(report.Describe());
        Console.WriteLine(JsonSerializer.Serialize(report, LoadGenJson.Default.ShortPollReport));
        return report.Gaps == 0 && report.Duplicates == 0 && report.Requests > 0 ? 0 : 1;
    }

    /// <summary>One polling client: one connection, one request at a time.</summary>
    private sealed class Poller(Subscriber subscriber, bool history) : IDisposable
    {
        private static readonly System.Collections.Concurrent.ConcurrentBag<HdrHistogram.LongHistogram> s_requests = [];
        [ThreadStatic] private static HdrHistogram.LongHistogram? t_requests;
        private Connection? _connection;

        public Subscriber Subscriber => subscriber;

        public long Requests;
        public long NotModified;

        public static void Reset()
        {
            foreach (var h in s_requests)
                h.Reset();
        }

        public static HdrHistogram.LongHistogram Merge()
        {
            var merged = Latency.Create();
            foreach (var h in s_requests)
                merged.Add(h);
            return merged;
        }

        public async Task RunAsync(Endpoint endpoint, CancellationToken cancellationToken)
        {
            try
            {
                _connection = await Connection.OpenAsync(endpoint, 16 * 1024, cancellationToken);
                var sink = new HeraldClient.PollSink(subscriber);
                var splitter = new RecordSplitter(0x1e, messageEndsRecord: true);
                string? etag = null;
                while (!cancellationToken.IsCancellationRequested)
                {
                    var path = history
                        ? $"/v1/channels/{subscriber.Channel}/messages?after={Math.Max(0, subscriber.Last)}&limit=1000"
                        : $"/v1/poll?channel={subscriber.Channel}&wait=0" + (sink.Cursor is null ? "" : "&cursor=" + sink.Cursor);
                    var sent = Stopwatch.GetTimestamp();
                    await HttpWire.GetAsync(_connection, endpoint, path, etag is null ? null : $"If-None-Match: {etag}\r\n", cancellationToken);
                    var head = await _connection.ReadHeadAsync(cancellationToken);
                    sink.Status = head.Status == 304 ? 200 : head.Status;
                    if (!await HttpWire.ReadBodyAsync(_connection, head, splitter, sink, subscriber, cancellationToken))
                        return;
                    if (history && head.ETag is not null)
                        etag = head.ETag;
                    if (head.Status == 304)
                        NotModified++;
                    Requests++;
                    if (Latency.Recording)
                    {
                        var h = t_requests;
                        if (h is null)
                            s_requests.Add(t_requests = h = Latency.Create());
                        h.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - sent) * 1_000_000 / Stopwatch.Frequency));
                    }
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (!cancellationToken.IsCancellationRequested)
                    subscriber.Error ??= e.Message;
            }
        }

        public void Dispose() => _connection?.Dispose();
    }
}

internal sealed class ShortPollReport
{
    public string Phase { get; set; } = "shortpoll";
    public string Target { get; set; } = "";
    public string Mode { get; set; } = "";
    public int Pollers { get; set; }
    public double Seconds { get; set; }
    public double Offered { get; set; }
    public long Published { get; set; }
    public long Requests { get; set; }
    public double RequestsPerSecond { get; set; }
    public long NotModified { get; set; }
    public long Messages { get; set; }
    public double MessagesPerSecond { get; set; }
    public long Gaps { get; set; }
    public long Duplicates { get; set; }
    public double RequestP50Ms { get; set; }
    public double RequestP99Ms { get; set; }
    public double LatencyP50Ms { get; set; }
    public double LatencyP99Ms { get; set; }
    public double ServerCpuPercent { get; set; }
    public double ServerCpuMicrosPerRequest { get; set; }
    public double GeneratorCpuPercent { get; set; }
    public string? FirstError { get; set; }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"shortpoll {Mode}: {Pollers} pollers, {RequestsPerSecond} requests/s ({NotModified} of {Requests} were 304), {MessagesPerSecond} messages/s; "
        + $"request p50 {RequestP50Ms} p99 {RequestP99Ms} ms; message latency p50 {LatencyP50Ms} p99 {LatencyP99Ms} ms; gaps {Gaps} dups {Duplicates}; "
        + $"server CPU {ServerCpuPercent} % ({ServerCpuMicrosPerRequest} µs/request); generator CPU {GeneratorCpuPercent} %");
}
