using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Herald.Testing;
using StackExchange.Redis;

namespace Herald.Testing.Cluster;

/// <summary>What a run does: the cluster, the load and the faults.</summary>
public sealed record ChaosOptions
{
    public int Nodes { get; init; } = 3;

    public int Channels { get; init; } = 1000;

    public int Publishes { get; init; } = 100_000;

    public int Publishers { get; init; } = 16;

    /// <summary>Publishes per second over all publishers; 0 = as fast as acknowledged.</summary>
    public int Rate { get; init; } = 2000;

    /// <summary>Subscribers per transport (ws, sse, stream, longpoll), each following <see cref="ChannelsPerSubscriber"/> channels.</summary>
    public int SubscribersPerTransport { get; init; } = 4;

    public int ChannelsPerSubscriber { get; init; } = 20;

    /// <summary>Redis persistence: AOF with <c>always</c> or <c>everysec</c>, <c>rdb</c> (snapshots only), or null for none.</summary>
    public string? Fsync { get; init; } = "always";

    public int NodeKills { get; init; }

    public int RedisRestarts { get; init; }

    /// <summary>How many times: snapshot Redis, go on publishing, kill it and restart it from the snapshot (acknowledged publishes are lost on purpose).</summary>
    public int Rollbacks { get; init; }

    public int PubSubKills { get; init; }

    /// <summary>When above 0: a primary, a replica and a Sentinel; the nodes connect through the Sentinel and the primary is killed this many times.</summary>
    public int Failovers { get; init; }

    /// <summary>A failed primary comes back on its files as a primary (until the Sentinel demotes it) rather than as a replica.</summary>
    public bool RejoinAsPrimary { get; init; }

    /// <summary>When set, each node's output goes to <c>node-N.log</c> here.</summary>
    public string? NodeLogDirectory { get; init; }

    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public Action<string> Log { get; init; } = Console.Error.WriteLine;
}

/// <summary>Runs one chaos scenario end to end and returns its totals.</summary>
public static class ChaosRun
{
    private const string ApiKey = "chaos-api-key-0123456789";

    public static async Task<Totals> RunAsync(ChaosOptions options)
    {
        var log = options.Log;
        await using var failover = options.Failovers > 0 ? await RedisFailover.StartAsync(options.Fsync) : null;
        await using var single = failover is null ? await RedisServer.StartAsync(options.Fsync) : null;
        var redisConfiguration = failover?.Configuration ?? single!.Configuration;
        RedisServer Primary() => failover?.Primary ?? single!;
        var nodes = new List<HeraldNode>();
        try
        {
            for (var i = 0; i < options.Nodes; i++)
            {
                nodes.Add(new HeraldNode(i, redisConfiguration, options.NodeLogDirectory, [
                    "--Herald:ApiKeys:0=" + ApiKey,
                    "--Herald:Namespaces:chaos:HistorySize=100000",
                    "--Herald:Transports:MaxHeldPollsPerIp=100000",
                    "--Logging:LogLevel:Default=Warning",
                    "--Logging:LogLevel:Herald=" + (Environment.GetEnvironmentVariable("HERALD_CHAOS_LOGLEVEL") ?? "Warning"),
                ]));
            }

            await Task.WhenAll(nodes.Select(n => n.StartAsync()));
            await using var proxy = new RoundRobinProxy(() => nodes.Select(n => n.Port).ToArray());
            log($"redis :{Primary().Port} ({options.Fsync ?? "no persistence"}{(failover is null ? "" : $", replica :{failover.Replica.Port}, sentinel :{failover.SentinelPort}")}), {nodes.Count} nodes :{string.Join(",:", nodes.Select(n => n.Port))}, proxy :{proxy.Port}");

            var channels = Enumerable.Range(0, options.Channels).Select(i => $"chaos:c{i}").ToArray();
            var subscribers = CreateSubscribers(options, proxy.BaseAddress, channels);
            using var stopSubscribers = new CancellationTokenSource();
            var running = subscribers.Select(s => Task.Run(() => s.RunAsync(stopSubscribers.Token))).ToArray();
            await Task.WhenAll(subscribers.Select(s => s.Ready.Task)).WaitAsync(TimeSpan.FromMinutes(2));
            log($"{subscribers.Count} subscribers ready");

            var publishers = new Publishers(proxy.BaseAddress, ApiKey, channels, options.Publishers, options.Publishes, options.Rate);
            using var stopPublishing = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            var publishing = publishers.RunAsync(stopPublishing.Token);
            var faults = InjectFaultsAsync(options, Primary, failover, nodes, publishing, log);
            await publishing;
            var injected = await faults;
            log($"{publishers.Acknowledged} publishes acknowledged in {clock.Elapsed.TotalSeconds:F1} s ({publishers.Retries} retries)");

            var finalLog = await ReadLogAsync(proxy.BaseAddress, channels);
            await DrainAsync(subscribers, finalLog, options.DrainTimeout, log);
            await stopSubscribers.CancelAsync();
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));

            var totals = new Totals { Acknowledged = publishers.Acknowledged, PublishRetries = publishers.Retries, FaultsInjected = injected };
            Verifier.Check(totals, publishers.AcknowledgedByChannel, finalLog,
                subscribers.SelectMany(s => s.Records.Select(r => (s.Name, r.Key, r.Value))));
            return totals;
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }

    private static List<ChaosSubscriber> CreateSubscribers(ChaosOptions options, Uri proxy, string[] channels)
    {
        var subscribers = new List<ChaosSubscriber>();
        var random = new Random(3);
        foreach (var transport in (string[])["ws", "sse", "stream", "longpoll"])
        {
            for (var i = 0; i < options.SubscribersPerTransport; i++)
            {
                var mine = channels.OrderBy(_ => random.Next()).Take(Math.Min(options.ChannelsPerSubscriber, channels.Length)).ToArray();
                var name = $"{transport}{i}";
                subscribers.Add(transport switch
                {
                    "ws" => new WebSocketSubscriber(name, proxy, mine),
                    "sse" => new StreamSubscriber(name, proxy, mine, sse: true),
                    "stream" => new StreamSubscriber(name, proxy, mine, sse: false),
                    _ => new LongPollSubscriber(name, proxy, mine),
                });
            }
        }

        return subscribers;
    }

    /// <summary>The faults, spread over the publishing: node kills (restarted after 2 s), Redis restarts, a rollback, pub/sub kills.</summary>
    /// <returns>How many faults were injected (those due after the publishing ended are not).</returns>
    private static async Task<int> InjectFaultsAsync(ChaosOptions options, Func<RedisServer> redis, RedisFailover? failover, List<HeraldNode> nodes, Task publishing, Action<string> log)
    {
        var faults = new List<Func<Task>>();
        var random = new Random(9);
        for (var i = 0; i < options.NodeKills; i++)
        {
            faults.Add(async () =>
            {
                var node = nodes[random.Next(nodes.Count)];
                node.Kill();
                log($"killed node {node.Index}");
                await Task.Delay(2000);
                await node.StartAsync();
                log($"node {node.Index} back");
            });
        }

        for (var i = 0; i < options.RedisRestarts; i++)
        {
            faults.Add(async () =>
            {
                await redis().RestartAsync();
                log("redis killed and restarted on its files");
            });
        }

        for (var i = 0; i < options.Rollbacks; i++)
        {
            faults.Add(async () =>
            {
                var server = redis();
                var snapshot = server.Snapshot();
                await Task.Delay(1500);
                await server.RestoreAsync(snapshot);
                Directory.Delete(snapshot, recursive: true);
                log("redis restarted from a snapshot taken 1.5 s earlier (publishes after it are lost)");
            });
        }

        for (var i = 0; i < options.PubSubKills; i++)
        {
            faults.Add(async () =>
            {
                await using var admin = await redis().ConnectAsync();
                var killed = await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
                log($"CLIENT KILL TYPE pubsub: {killed} connections");
            });
        }

        for (var i = 0; i < options.Failovers && failover is not null; i++)
        {
            faults.Add(async () =>
            {
                var clock = Stopwatch.StartNew();
                await failover.FailOverAsync(options.RejoinAsPrimary);
                log($"primary killed, the Sentinel promoted :{failover.Primary.Port}; old primary back as its replica ({clock.Elapsed.TotalSeconds:F1} s)");
            });
        }

        if (faults.Count == 0)
            return 0;

        // Evenly through the run, on the clock: fault i is due (i + 1) gaps after the start, not a
        // gap after the previous one ended (a node kill takes 2 s and its restart more; waiting
        // after each would push the last faults past the end of publishing at the full rate).
        var gap = TimeSpan.FromSeconds(Math.Max(2, (double)options.Publishes / Math.Max(1, options.Rate) / (faults.Count + 1)));
        var clock = Stopwatch.StartNew();
        var done = 0;
        foreach (var fault in faults.OrderBy(_ => random.Next()).ToList())
        {
            var wait = gap * (done + 1) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.WhenAny(Task.Delay(wait), publishing);
            if (publishing.IsCompleted)
                break;
            await fault();
            done++;
        }

        if (done < faults.Count)
            log($"only {done} of {faults.Count} faults fell within the publishing");
        return done;
    }

    /// <summary>Waits until every subscriber holds, per channel, the log's last offset (or a reset past it).</summary>
    private static async Task DrainAsync(List<ChaosSubscriber> subscribers, Dictionary<string, List<Seen>> finalLog, TimeSpan timeout, Action<string> log)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            bool Behind(ChaosSubscriber s, string c)
            {
                var top = finalLog.TryGetValue(c, out var entries) && entries.Count > 0 ? entries[^1] : default;
                if (top.Epoch is null)
                    return false;
                return !s.Records[c].Events.Any(e => e is Seen seen && seen.Epoch == top.Epoch && seen.Offset >= top.Offset
                    || e is Reset reset && reset.ToEpoch == top.Epoch && reset.ToOffset >= top.Offset);
            }

            var behind = subscribers.Count(s => s.Channels.Any(c => Behind(s, c)));
            if (behind == 0)
                return;
            if (DateTime.UtcNow > deadline)
            {
                log($"{behind} subscribers still behind after {timeout}");
                foreach (var s in subscribers.Where(s => s.Channels.Any(c => Behind(s, c))))
                {
                    var where = string.Join(", ", s.Channels.Where(c => Behind(s, c)).Select(c =>
                        $"{c} at {s.PositionOf(c).Epoch}:{s.PositionOf(c).Offset} (log ends at {finalLog[c][^1].Epoch}:{finalLog[c][^1].Offset})"));
                    log($"  {s.Name}: {where}; {s.Reconnects} reconnects, last error: {s.LastError ?? "none"}, last answer: {s.LastAnswer ?? "none"}");
                }

                return;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Every channel's history at the end, read through the proxy.</summary>
    private static async Task<Dictionary<string, List<Seen>>> ReadLogAsync(Uri proxy, string[] channels)
    {
        using var http = new HttpClient { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var result = new Dictionary<string, List<Seen>>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            var list = new List<Seen>();
            long after = 0;
            while (true)
            {
                var text = await RetryAsync(() => http.GetStringAsync($"v1/channels/{channel}/messages?after={after}&limit=1000"));
                using var document = JsonDocument.Parse(text);
                var page = document.RootElement.GetProperty("publications");
                if (page.GetArrayLength() == 0)
                    break;
                foreach (var publication in page.EnumerateArray())
                {
                    after = publication.GetProperty("offset").GetInt64();
                    list.Add(new Seen(publication.GetProperty("epoch").GetString()!, after, publication.GetProperty("data").GetProperty("k").GetString()!));
                }
            }

            result[channel] = list;
        }

        return result;
    }

    private static async Task<string> RetryAsync(Func<Task<string>> read)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (HttpRequestException) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }
}
