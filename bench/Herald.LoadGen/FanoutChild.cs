using System.Globalization;
using System.Text.Json;

namespace Herald.LoadGen;

/// <summary>
/// A generator process's part of a fan-out: it opens its subscribers, says <c>READY</c>, and then
/// runs the steps its parent commands on standard input — <c>step</c> (mark the counters, start
/// recording latency), <c>drain TOP SECONDS</c> (wait until every subscriber reached TOP, then
/// answer <c>RESULT {json}</c> with what changed since the mark), <c>stop</c>.
/// </summary>
internal static class FanoutChild
{
    public static async Task<int> RunAsync(Options options)
    {
        var target = Target.Parse(options);
        var count = options.Int("subscribers", 100);
        var channel = options.Required("channel");
        using var endpoint = new Endpoint(options.Required("url"), Connector.Parse(options.Get("source-ips")), options.Int("poll-wait", 25));
        using var crowd = new Crowd(target, endpoint, options.Int("buffer", 16 * 1024));
        await crowd.OpenAsync(count, _ => new Subscriber(channel) { Sequenced = target.PublisherNumbers },
            options.Double("open-rate", 2000), 256, TimeSpan.FromSeconds(options.Double("open-timeout", 120)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {crowd.Acked} {crowd.Failed} {crowd.FirstError()}"));

        Mark[] marks = [];
        var cpu = TimeSpan.Zero;
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "step":
                    marks = crowd.Subscribers.Select(s => new Mark(s.Received, s.Gaps, s.Duplicates, s.Resets, s.Frames, s.FramePublications, s.Last, s.Ended)).ToArray();
                    Latency.Reset();
                    Latency.Recording = true;
                    cpu = Environment.CpuUsage.TotalTime;
                    Console.WriteLine("STEPPING");
                    break;
                case "drain":
                    var top = long.Parse(words[1], CultureInfo.InvariantCulture);
                    await crowd.DrainAsync((_, s) => s.Last >= top, TimeSpan.FromSeconds(double.Parse(words[2], CultureInfo.InvariantCulture)));
                    Latency.Recording = false;
                    var share = Tally(crowd, marks, top);
                    share.GeneratorCpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
                    Console.WriteLine("RESULT " + JsonSerializer.Serialize(share, LoadGenJson.Default.FanoutShare));
                    break;
                case "stop":
                    await crowd.CloseAsync();
                    return 0;
            }
        }

        await crowd.CloseAsync();
        return 0;
    }

    private static FanoutShare Tally(Crowd crowd, Mark[] marks, long top)
    {
        var share = new FanoutShare();
        for (var i = 0; i < crowd.Subscribers.Count; i++)
        {
            var s = crowd.Subscribers[i];
            var mark = i < marks.Length ? marks[i] : new Mark(0, 0, 0, 0, 0, 0, s.Last, false);
            share.Deliveries += s.Received - mark.Received;
            share.Gaps += s.Gaps - mark.Gaps;
            share.Duplicates += s.Duplicates - mark.Duplicates;
            share.Resets += s.Resets - mark.Resets;
            share.Frames += s.Frames - mark.Frames;
            share.FramePublications += s.FramePublications - mark.FramePublications;
            share.LastReceivedTicks = Math.Max(share.LastReceivedTicks, s.LastReceivedTicks);
            if (!s.IsAcked || mark.Ended)
                continue;
            share.Expected += top - Math.Max(0, mark.Last);
            share.Missing += Math.Max(0, top - s.Last);
            if (s.Ended)
                share.Disconnected++;
        }

        share.Histogram = Latency.Encode(Latency.Merge());
        share.FirstError = crowd.FirstError();
        return share;
    }

    private readonly record struct Mark(long Received, long Gaps, long Duplicates, long Resets, long Frames, long FramePublications, long Last, bool Ended);
}

/// <summary>What one generator process measured in one step.</summary>
internal sealed class FanoutShare : Share
{
    public long Frames { get; set; }
    public long FramePublications { get; set; }
}
