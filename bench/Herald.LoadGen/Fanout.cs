using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Herald.LoadGen;

/// <summary>
/// <c>fanout</c>: N subscribers on one channel, spread over generator processes; once every
/// subscription is acknowledged, a warm-up (publishing at a low rate, then drained) and then one
/// step per offered rate (<c>--rates 20,50,100,max</c>) on the same subscribers: publish for S
/// seconds, drain to the channel's top, report the step as one JSON line. After the steps one
/// summary line gives the saturation (see <see cref="FanoutStep.KeptUp"/>). This process publishes
/// and watches the server; its children only subscribe.
/// </summary>
internal static class Fanout
{
    public static async Task<int> RunAsync(Options options)
    {
        var target = Target.Parse(options);
        var subscribers = options.Int("subscribers", 100);
        var processes = options.Int("processes", Math.Max(1, (subscribers + 14_999) / 15_000));
        var seconds = options.Double("seconds", 5);
        var rates = (options.Get("rates") ?? options.Get("rate", "max")).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var channel = options.Get("channel") ?? (target.IsHerald ? $"bench:fan-{Environment.ProcessId}-{DateTime.UtcNow.Ticks % 1_000_000}" : target.DefaultChannel);
        var apiKey = options.Get("api-key") ?? Environment.GetEnvironmentVariable("HERALD_API_KEY");
        if (apiKey is null && target.IsHerald)
            throw new ArgumentException("--api-key (or HERALD_API_KEY) is needed to publish to Herald.");
        var rules = new SaturationRule(options.Double("keep-up", 0.95), options.Double("slo-p99-ms", 250));
        var probe = options.Get("server-pid") is { } pid ? new ServerProbe(int.Parse(pid, CultureInfo.InvariantCulture)) : null;
        var serverCore = options.Int("server-core", 0);
        var generatorCore = options.Int("generator-core", 1);
        using var endpoint = new Endpoint(options.Required("url"), Connector.Parse(options.Get("source-ips")));

        var children = new List<Child>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var count = subscribers / processes + (i < subscribers % processes ? 1 : 0);
                children.Add(Child.Start(Child.ChildArgs(options, "fanout", i, processes, new Dictionary<string, string?>
                {
                    ["subscribers"] = count.ToString(CultureInfo.InvariantCulture),
                    ["channel"] = channel,
                })));
            }

            var acked = 0;
            foreach (var child in children)
            {
                var ready = (await child.WaitForAsync("READY", TimeSpan.FromSeconds(options.Double("open-timeout", 120) + 60)))?.Split(' ', 3)
                    ?? throw new InvalidOperationException("A generator process exited before it was ready.");
                acked += int.Parse(ready[0], CultureInfo.InvariantCulture);
                if (ready[1] != "0")
                    Log($"{ready[1]} subscriptions failed: {(ready.Length > 2 ? ready[2] : "")}");
            }

            Log($"{acked} of {subscribers} {target.System} {target.Transport} subscribers acknowledged on {channel}");
            // --publish-url: publish through another node than the subscribers' (cross-node latency on a shared engine).
            using var publishEndpoint = options.Get("publish-url") is { } publishUrl ? new Endpoint(publishUrl, Connector.Parse(options.Get("source-ips"))) : null;
            using var publisher = new Publisher(target, publishEndpoint ?? endpoint, channel, apiKey, options.Int("payload", 100), options.Int("connections", 64));
            var run = new StepRunner(target, endpoint, channel, apiKey, publisher, children, probe, serverCore, generatorCore, acked);

            var warmup = options.Double("warmup-seconds", 3);
            if (warmup > 0)
            {
                var warm = await run.StepAsync(options.Double("warmup-rate", 20), warmup, options.Double("drain", 60));
                Log($"warm-up: {warm.Describe()}");
            }

            var steps = new List<FanoutStep>();
            var misses = 0;
            double? saturation = null;
            for (var i = 0; i < rates.Length; i++)
            {
                var max = rates[i] == "max";
                if (!max && misses >= options.Int("stop-after-misses", 2))
                    continue;
                var step = await run.StepAsync(max ? 0 : Offered(rates[i], saturation), seconds, options.Double("drain", 60));
                if (max)
                    saturation = step.PublishedPerSecond;
                else if (rates[i].EndsWith('%'))
                    step.Rate = rates[i];
                step.Index = i;
                step.KeptUp = rules.KeptUp(step);
                steps.Add(step);
                misses = step.KeptUp ? 0 : misses + 1;
                Log(step.Describe());
                Console.WriteLine(JsonSerializer.Serialize(step, LoadGenJson.Default.FanoutStep));
                if (step.Disconnected > 0)
                {
                    Log($"{step.Disconnected} subscribers were disconnected: the run stops here ({step.FirstError})");
                    break;
                }
            }

            var summary = FanoutSummary.Of(target, acked, steps, rules);
            Log(summary.Describe());
            Console.WriteLine(JsonSerializer.Serialize(summary, LoadGenJson.Default.FanoutSummary));
            foreach (var child in children)
                await child.SendAsync("stop");
            foreach (var child in children)
                await child.ExitAsync();
            return summary.Clean && steps.Count > 0 && steps.All(s => s.Deliveries > 0 && s.Deliveries == s.Expected) ? 0 : 1;
        }
        finally
        {
            foreach (var child in children)
                child.Dispose();
        }
    }

    private static void Log(string message) => Console.Error.WriteLine(message);

    /// <summary>A step's rate: publishes per second, or "N%" of what the last 'max' step before it published per second.</summary>
    private static double Offered(string rate, double? saturation)
    {
        if (!rate.EndsWith('%'))
            return double.Parse(rate, CultureInfo.InvariantCulture);
        if (saturation is not { } measured)
            throw new ArgumentException($"The rate '{rate}' is a share of the saturation: put a 'max' step before it in --rates (e.g. max,10%).");
        return Math.Max(1, Math.Round(measured * double.Parse(rate[..^1], CultureInfo.InvariantCulture) / 100));
    }

    /// <summary>Runs one step on the children's subscribers and measures server and generator around it.</summary>
    private sealed class StepRunner(Target target, Endpoint endpoint, string channel, string? apiKey, Publisher publisher,
        List<Child> children, ServerProbe? probe, int serverCore, int generatorCore, int subscribers)
    {
        public async Task<FanoutStep> StepAsync(double rate, double seconds, double drainSeconds)
        {
            foreach (var child in children)
                await child.SendAsync("step");
            foreach (var child in children)
                _ = await child.WaitForAsync("STEPPING", TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("A generator process exited.");

            var serverCpu = probe?.CpuSeconds() ?? 0;
            var serverTicks = ServerProbe.CoreTicks(serverCore);
            var generatorTicks = ServerProbe.CoreTicks(generatorCore);
            var ownCpu = Environment.CpuUsage.TotalTime;
            var go = Stopwatch.GetTimestamp();
            var published = await publisher.RunAsync(rate, TimeSpan.FromSeconds(seconds));
            var answered = published.AnswerMs();
            var top = await target.TopAsync(endpoint, channel, apiKey);
            foreach (var child in children)
                await child.SendAsync(string.Create(CultureInfo.InvariantCulture, $"drain {top} {drainSeconds}"));
            var shares = await Share.CollectAsync(children, LoadGenJson.Default.FanoutShare, TimeSpan.FromSeconds(drainSeconds + 60));
            var wall = Stopwatch.GetElapsedTime(go).TotalSeconds;
            var step = new FanoutStep
            {
                Target = target.System,
                Transport = target.Transport,
                Subscribers = subscribers,
                Connections = publisher.Connections,
                Rate = rate > 0 ? rate.ToString(CultureInfo.InvariantCulture) : "max",
                Offered = rate,
                Seconds = seconds,
                Published = published.Published,
                PublishErrors = published.Errors,
                PublishedPerSecond = Math.Round(published.Published / published.Seconds, 1),
                PublishAnswerP50Ms = answered.P50,
                PublishAnswerP99Ms = answered.P99,
                TimerLateP99Ms = published.TimerLateP99Ms,
                Top = top,
            };
            step.Add(shares, go, published.Seconds);
            step.AddFrames(shares);
            step.Measure(probe, serverCpu, shares.Sum(s => s.GeneratorCpuSeconds) + (Environment.CpuUsage.TotalTime - ownCpu).TotalSeconds, wall);
            step.GeneratorCoreBusyPercent = ServerProbe.BusyPercent(generatorTicks, ServerProbe.CoreTicks(generatorCore));
            step.ServerCoreBusyPercent = ServerProbe.BusyPercent(serverTicks, ServerProbe.CoreTicks(serverCore));
            step.FirstError ??= published.FirstError;
            return step;
        }
    }
}

/// <summary>
/// A step kept up when nothing failed (no publish error, gap, duplicate, reset, loss or disconnection),
/// the publisher achieved ≥ <paramref name="Fraction"/> of the offered rate, the subscribers
/// received ≥ <paramref name="Fraction"/> of offered × subscribers deliveries per second (measured
/// until the last delivery, so a server that falls behind and catches up during the drain fails
/// it), and p99 latency stayed ≤ <paramref name="P99Ms"/>. The closed-loop <c>max</c> step has no
/// offered rate: it gives the peak, never the saturation.
/// </summary>
internal sealed record SaturationRule(double Fraction, double P99Ms)
{
    public bool KeptUp(FanoutStep step) =>
        step.Offered > 0
        && step.PublishErrors == 0 && step.Gaps == 0 && step.Duplicates == 0 && step.Resets == 0 && step.Missing == 0 && step.Disconnected == 0
        && step.PublishedPerSecond >= Fraction * step.Offered
        && step.DeliveriesPerSecond >= Fraction * step.Offered * step.Subscribers
        && step.LatencyP99Ms <= P99Ms;
}
