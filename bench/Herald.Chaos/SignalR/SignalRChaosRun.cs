using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Herald.Testing;
using Herald.Testing.Cluster;

namespace Herald.Chaos.SignalR;

/// <summary>What a SignalR run does: the cluster, the load and the node kills (the knobs of Herald's run that apply).</summary>
internal sealed record SignalRChaosOptions
{
    public int Nodes { get; init; } = 3;

    public int Channels { get; init; } = 1000;

    public int Publishes { get; init; } = 100_000;

    public int Publishers { get; init; } = 16;

    /// <summary>Publishes per second over all publishers; 0 = as fast as acknowledged.</summary>
    public int Rate { get; init; } = 2000;

    public int Subscribers { get; init; } = 16;

    public int ChannelsPerSubscriber { get; init; } = 20;

    public int NodeKills { get; init; }

    public string? NodeLogDirectory { get; init; }

    public Action<string> Log { get; init; } = Console.Error.WriteLine;
}

/// <summary>
/// The peer of Herald's chaos run (issue 14): a real redis-server, N SignalRPeer processes on the
/// Redis backplane behind the same round-robin non-sticky proxy, subscribers on the .NET SignalR
/// client that join again after every disconnect, publishers posting through the proxy and
/// retrying, and <c>kill -9</c> of a random node every few seconds (restarted 2 s later on its
/// port). Counts what SignalR loses; it is a measurement, so it exits 0 whatever it counts.
/// </summary>
internal static class SignalRChaosRun
{
    private static readonly JsonSerializerOptions s_report = new() { WriteIndented = true };

    public static Command CreateCommand()
    {
        var nodes = new Option<int>("--nodes") { DefaultValueFactory = _ => 3, Description = "SignalR nodes." };
        var channels = new Option<int>("--channels") { DefaultValueFactory = _ => 1000, Description = "Channels (SignalR groups)." };
        var publishes = new Option<int>("--publishes") { DefaultValueFactory = _ => 100_000 };
        var publishers = new Option<int>("--publishers") { DefaultValueFactory = _ => 16 };
        var rate = new Option<int>("--rate") { DefaultValueFactory = _ => 2000, Description = "Publishes per second in all (0: as fast as acknowledged)." };
        var subscribers = new Option<int>("--subscribers") { DefaultValueFactory = _ => 16, Description = "Subscribers (Herald's run: 4 per transport × 4 transports)." };
        var perSubscriber = new Option<int>("--channels-per-subscriber") { DefaultValueFactory = _ => 20 };
        var nodeKills = new Option<int>("--node-kills") { DefaultValueFactory = _ => 0, Description = "kill -9 of a random node, restarted 2 s later on its port." };
        var nodeLogs = new Option<string?>("--node-logs") { Description = "A directory for each node's output (signalr-node-N.log)." };
        var json = new Option<string?>("--json") { Description = "Also write the totals to this file." };
        var command = new Command("signalr", "The peer: the same chaos run against stock ASP.NET Core SignalR on the Redis backplane (bench/peers/SignalRPeer --redis); counts what it loses while connected and in total. Always exits 0: a measurement.")
        {
            nodes, channels, publishes, publishers, rate, subscribers, perSubscriber, nodeKills, nodeLogs, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var totals = await RunAsync(new SignalRChaosOptions
            {
                Nodes = parse.GetValue(nodes),
                Channels = parse.GetValue(channels),
                Publishes = parse.GetValue(publishes),
                Publishers = parse.GetValue(publishers),
                Rate = parse.GetValue(rate),
                Subscribers = parse.GetValue(subscribers),
                ChannelsPerSubscriber = parse.GetValue(perSubscriber),
                NodeKills = parse.GetValue(nodeKills),
                NodeLogDirectory = parse.GetValue(nodeLogs),
            });
            var report = JsonSerializer.Serialize(totals, s_report);
            Console.WriteLine(report);
            if (parse.GetValue(json) is { } path)
                await File.WriteAllTextAsync(path, report, cancellationToken);
            return 0;
        });
        return command;
    }

    public static async Task<SignalRTotals> RunAsync(SignalRChaosOptions options)
    {
        var log = options.Log;
        // The backplane is pub/sub only: nothing for Redis to persist.
        await using var redis = await RedisServer.StartAsync(appendFsync: null);
        var nodes = Enumerable.Range(0, options.Nodes).Select(i => new SignalRNode(i, redis.Configuration, options.NodeLogDirectory)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
            await using var proxy = new RoundRobinProxy(() => nodes.Select(n => n.Port).ToArray());
            log($"redis :{redis.Port} (no persistence), {nodes.Count} SignalR nodes :{string.Join(",:", nodes.Select(n => n.Port))}, proxy :{proxy.Port}");

            // The same channel choice as Herald's 16 subscribers (seed 3, 20 random channels each).
            var random = new Random(3);
            var all = Enumerable.Range(0, options.Channels).ToArray();
            var subscribers = Enumerable.Range(0, options.Subscribers)
                .Select(i => new SignalRSubscriber($"signalr{i}", proxy.BaseAddress, all.OrderBy(_ => random.Next()).Take(Math.Min(options.ChannelsPerSubscriber, all.Length)).ToArray()))
                .ToList();
            using var stopSubscribers = new CancellationTokenSource();
            var running = subscribers.Select(s => Task.Run(() => s.RunAsync(stopSubscribers.Token))).ToArray();
            await Task.WhenAll(subscribers.Select(s => s.Ready.Task)).WaitAsync(TimeSpan.FromMinutes(2));
            log($"{subscribers.Count} subscribers joined");

            var publishers = new SignalRPublishers(proxy.BaseAddress, options.Channels, options.Publishers, options.Publishes, options.Rate);
            var clock = Stopwatch.StartNew();
            var publishing = publishers.RunAsync(CancellationToken.None);
            var faults = KillNodesAsync(options, nodes, publishing, log);
            await publishing;
            var killed = await faults;
            var seconds = clock.Elapsed.TotalSeconds;
            log($"{publishers.Acknowledged} publishes acknowledged in {seconds:F1} s ({publishers.Retries} retries)");

            var fenceSent = await FenceAsync(proxy.BaseAddress, subscribers, log);
            await stopSubscribers.CancelAsync();
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));

            var totals = new SignalRTotals
            {
                Nodes = options.Nodes,
                NodeKills = options.NodeKills,
                NodeKillsDone = killed,
                PublishesAcknowledged = publishers.Acknowledged,
                PublishRetries = publishers.Retries,
                Seconds = Math.Round(seconds, 1),
            };
            SignalRLedger.Count(totals, publishers, fenceSent, subscribers);
            return totals;
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }

    /// <summary>
    /// Herald's spacing — publishes / rate / (kills + 1) seconds, at least 2 s — but kept on the
    /// clock: kill i is due at (i + 1) spacings from the start, not one spacing after the previous
    /// node came back. Herald's harness waits the spacing after each restart, so at the full
    /// 2,000/s only about 6 of 10 kills fit into the 50 s of publishing (a slower run fits them
    /// all); on the clock all of them do. Each node is back 2 s after its kill; no kill once the
    /// publishing is over. The nodes die in the order Herald's run kills them. Returns the kills done.
    /// </summary>
    private static async Task<int> KillNodesAsync(SignalRChaosOptions options, List<SignalRNode> nodes, Task publishing, Action<string> log)
    {
        if (options.NodeKills == 0)
            return 0;
        var random = new Random(9);
        // Herald's run draws one number per fault to shuffle them first: the same draws here, so
        // the same nodes die in the same order as in Herald's run with the same --node-kills.
        for (var i = 0; i < options.NodeKills; i++)
            random.Next();
        var spacing = TimeSpan.FromSeconds(Math.Max(2, (double)options.Publishes / Math.Max(1, options.Rate) / (options.NodeKills + 1)));
        var clock = Stopwatch.StartNew();
        var done = 0;
        for (; done < options.NodeKills; done++)
        {
            var wait = spacing * (done + 1) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.WhenAny(Task.Delay(wait), publishing);
            if (publishing.IsCompleted)
                break;
            var node = nodes[random.Next(nodes.Count)];
            node.Kill();
            log($"{clock.Elapsed.TotalSeconds:F1} s: killed node {node.Index}");
            await Task.Delay(2000);
            await node.StartAsync();
            log($"{clock.Elapsed.TotalSeconds:F1} s: node {node.Index} back");
        }

        return done;
    }

    /// <summary>
    /// The end of the run, without waiting on a clock: once every subscriber is connected and
    /// joined again, one fence publication per channel. Redis delivers a channel's messages to a
    /// node in order and the node writes them to a connection in order, so a subscriber that
    /// received a channel's fence has received everything of that channel it ever will. Channels
    /// whose fence did not reach every subscriber (one reconnected meanwhile) get another, up to 5 rounds.
    /// Returns when each fence was first sent.
    /// </summary>
    private static async Task<IReadOnlyDictionary<(int Channel, int Round), long>> FenceAsync(Uri proxy, List<SignalRSubscriber> subscribers, Action<string> log)
    {
        var sent = new ConcurrentDictionary<(int Channel, int Round), long>();
        if (!await WaitAsync(() => subscribers.All(s => s.IsLive), TimeSpan.FromSeconds(60)))
            log($"{subscribers.Count(s => !s.IsLive)} subscribers not connected and joined after 60 s");

        using var http = SignalRPublishers.CreateClient(proxy);
        for (var round = 1; round <= 5; round++)
        {
            var pending = subscribers.SelectMany(s => s.Channels.Where(c => !s.HasFence(c))).Distinct().ToArray();
            if (pending.Length == 0)
                break;
            log($"fence round {round}: {pending.Length} channels");
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (channel, ct) =>
            {
                sent[(channel, round)] = Stopwatch.GetTimestamp();
                var body = "{\"c\":" + channel.ToString(CultureInfo.InvariantCulture) + ",\"f\":" + round.ToString(CultureInfo.InvariantCulture) + "}";
                await SignalRPublishers.PublishAsync(http, channel, body, ct);
            });
            await WaitAsync(() => subscribers.All(s => s.Channels.All(s.HasFence)), TimeSpan.FromSeconds(10));
        }

        return sent;
    }

    private static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(100);
        }

        return true;
    }
}
