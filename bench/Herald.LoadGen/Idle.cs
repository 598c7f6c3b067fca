using System.Globalization;
using System.Text.Json;

namespace Herald.LoadGen;

/// <summary>
/// <c>idle</c>: opens N connections at a controlled rate and holds them. With
/// <c>--server-pid</c> it measures the server's resident memory before (after a warm-up of
/// <c>--warmup</c> connections opened and closed) and after (<c>--settle</c> seconds later), and
/// reports the growth per connection.
/// </summary>
internal static class Idle
{
    public static async Task<int> RunAsync(Options options)
    {
        var target = Target.Parse(options);
        var total = options.Int("connections", 1000);
        var processes = Math.Max(1, options.Int("processes", 1));
        var channel = options.Get("channel", "bench:idle");
        var perConnection = options.Flag("channel-per-connection");
        var childIndex = options.Int("child-index", 0);
        Subscriber Create(int i) => new(perConnection ? $"{channel}-{childIndex}-{i}" : channel);

        using var endpoint = new Endpoint(options.Required("url"), Connector.Parse(options.Get("source-ips")), options.Int("poll-wait", 60)) { NoSubscribe = options.Flag("no-subscribe") };
        var rate = options.Double("rate", 1000);
        var openTimeout = TimeSpan.FromSeconds(options.Double("open-timeout", 120));

        if (options.Flag("child"))
        {
            using var crowd = new Crowd(target, endpoint, 1024);
            await crowd.OpenAsync(total, Create, rate, 256, openTimeout);
            Console.WriteLine($"OPEN {crowd.Acked} {crowd.Failed}");
            await Console.In.ReadLineAsync();
            var result = new IdleShare(crowd.Acked - crowd.Ended, crowd.Failed, crowd.Ended, crowd.FirstError());
            await crowd.CloseAsync();
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(result, LoadGenJson.Default.IdleShare));
            return 0;
        }

        var probe = options.Get("server-pid") is { } pid ? new ServerProbe(int.Parse(pid, CultureInfo.InvariantCulture)) : null;
        var gc = options.Flag("server-gc");
        var report = new IdleReport { Target = target.System, Transport = target.Transport, Requested = total, Processes = processes };
        if (probe is not null)
        {
            var warmup = options.Int("warmup", 100);
            if (warmup > 0)
            {
                using var warm = new Crowd(target, endpoint, 1024);
                await warm.OpenAsync(warmup, _ => new Subscriber($"{channel}-warmup"), rate, 256, openTimeout);
                await warm.CloseAsync();
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            if (gc)
                report.GcInduced = await probe.InduceGcAsync();
            report.GcMode = probe.GcMode();
            report.RssBeforeKiB = probe.RssKiB();
            report.RssAnonBeforeKiB = probe.RssAnonKiB();
            report.ThreadsBefore = probe.Threads();
            Log($"server pid {probe.Pid}: {report.GcMode}, RSS {report.RssBeforeKiB / 1024.0:F1} MiB after warm-up");
        }

        var children = new List<Child>();
        Crowd? own = null;
        try
        {
            var opening = DateTime.UtcNow;
            if (processes > 1)
            {
                for (var i = 0; i < processes; i++)
                {
                    var share = total / processes + (i < total % processes ? 1 : 0);
                    children.Add(Child.Start(Child.ChildArgs(options, "idle", i, processes,
                        new Dictionary<string, string?> { ["connections"] = share.ToString(CultureInfo.InvariantCulture) })));
                }

                foreach (var child in children)
                {
                    var open = (await child.WaitForAsync("OPEN", openTimeout + TimeSpan.FromSeconds(30)))?.Split(' ');
                    report.Opened += open is null ? 0 : int.Parse(open[0], CultureInfo.InvariantCulture);
                    report.Failed += open is null ? 0 : int.Parse(open[1], CultureInfo.InvariantCulture);
                }
            }
            else
            {
                own = new Crowd(target, endpoint, 1024);
                await own.OpenAsync(total, Create, rate, 256, openTimeout);
                report.Opened = own.Acked;
                report.Failed = own.Failed;
            }

            report.OpenSeconds = (DateTime.UtcNow - opening).TotalSeconds;
            Log($"{report.Opened} {report.Transport} connections open, {report.Failed} failed, in {report.OpenSeconds:F1} s");

            if (probe is not null)
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Double("settle", 10)));
                report.RssAfterKiB = probe.RssKiB();
                report.RssAnonAfterKiB = probe.RssAnonKiB();
                report.ThreadsAfter = probe.Threads();
                if (gc)
                {
                    await probe.InduceGcAsync();
                    report.RssAfterGcKiB = probe.RssKiB();
                }
            }

            if (options.Get("hold") is { } hold)
                await Task.Delay(TimeSpan.FromSeconds(double.Parse(hold, CultureInfo.InvariantCulture)));
            else if (probe is null)
            {
                Log("holding; press Enter to close");
                await Console.In.ReadLineAsync();
            }

            if (own is not null)
            {
                report.StillOpen = own.Acked - own.Ended;
                report.FirstError = own.FirstError();
                await own.CloseAsync();
            }

            foreach (var child in children)
                await child.SendAsync("stop");
            foreach (var child in children)
            {
                var json = await child.WaitForAsync("RESULT", TimeSpan.FromSeconds(60));
                var share = json is null ? null : JsonSerializer.Deserialize(json, LoadGenJson.Default.IdleShare);
                report.StillOpen += share?.StillOpen ?? 0;
                report.FirstError ??= share?.FirstError;
                await child.ExitAsync();
            }
        }
        finally
        {
            own?.Dispose();
            foreach (var child in children)
                child.Dispose();
        }

        if (probe is not null && report.StillOpen > 0)
        {
            var after = gc ? report.RssAfterGcKiB : report.RssAfterKiB;
            report.KiBPerConnection = Math.Round((double)(after - report.RssBeforeKiB) / report.StillOpen, 2);
            report.KiBPerConnectionNoGc = Math.Round((double)(report.RssAfterKiB - report.RssBeforeKiB) / report.StillOpen, 2);
            // One node holding 1,000,000 such connections: the process's own RSS before any, plus 10^6 × the growth per connection.
            report.ProjectedGiBPerMillion = Math.Round((report.RssBeforeKiB + report.KiBPerConnection * 1_000_000) / (1024.0 * 1024.0), 2);
            Log($"server RSS {report.RssBeforeKiB / 1024.0:F1} → {report.RssAfterKiB / 1024.0:F1} MiB"
                + (gc ? $" ({report.RssAfterGcKiB / 1024.0:F1} MiB after an induced GC)" : string.Empty)
                + $": {report.KiBPerConnection:F2} KiB per {report.Transport} connection ({report.StillOpen} open)");
        }

        if (report.FirstError is not null)
            Log("first error: " + report.FirstError);
        Console.WriteLine(JsonSerializer.Serialize(report, LoadGenJson.Default.IdleReport));
        return report.StillOpen == total ? 0 : 1;
    }

    private static void Log(string message) => Console.Error.WriteLine(message);
}

internal sealed record IdleShare(int StillOpen, int Failed, int Ended, string? FirstError);

internal sealed class IdleReport
{
    public string Phase { get; set; } = "idle";
    public string Target { get; set; } = "";
    public string Transport { get; set; } = "";
    public int Requested { get; set; }
    public int Processes { get; set; }
    public int Opened { get; set; }
    public int Failed { get; set; }
    public int StillOpen { get; set; }
    public double OpenSeconds { get; set; }
    public string? GcMode { get; set; }
    public bool GcInduced { get; set; }
    public long RssBeforeKiB { get; set; }
    public long RssAnonBeforeKiB { get; set; }
    public long RssAfterKiB { get; set; }
    public long RssAnonAfterKiB { get; set; }
    public long RssAfterGcKiB { get; set; }
    public int ThreadsBefore { get; set; }
    public int ThreadsAfter { get; set; }
    public double KiBPerConnection { get; set; }
    public double KiBPerConnectionNoGc { get; set; }
    public double ProjectedGiBPerMillion { get; set; }
    public string? FirstError { get; set; }
}
