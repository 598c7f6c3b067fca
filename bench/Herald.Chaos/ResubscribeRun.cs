using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Herald.Testing;
using Herald.Testing.Cluster;

namespace Herald.Chaos;

/// <summary>
/// How soon a node is live again after Redis restarts (issue 14: 10,000 channels per node live
/// again within 2 s of Redis accepting connections). One real herald node follows
/// <c>channels</c> channels for WebSocket subscribers (64 per connection); Redis is killed and
/// restarted on its AOF; from the moment it answers PING, a publish goes every 100 ms to each of
/// 200 sampled channels until each has delivered one published after that moment. The time of the
/// last such delivery is when the node is live again on every sampled channel.
/// </summary>
internal static class ResubscribeRun
{
    private const string ApiKey = "chaos-api-key-0123456789";

    public static async Task<TimeSpan> RunAsync(int channels, int samples, Action<string> log)
    {
        await using var redis = await RedisServer.StartAsync("always");
        await using var node = new HeraldNode(0, redis.Configuration, null, [
            "--Herald:ApiKeys:0=" + ApiKey,
            "--Herald:Connections:MaxConnectionsPerIp=0",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await node.StartAsync();

        var names = Enumerable.Range(0, channels).Select(i => $"live:c{i}").ToArray();
        var subscribers = names.Chunk(64).Select((chunk, i) => new WebSocketSubscriber($"ws{i}", node.BaseAddress, chunk)).ToList();
        using var stop = new CancellationTokenSource();
        var running = subscribers.Select(s => Task.Run(() => s.RunAsync(stop.Token))).ToArray();
        await Task.WhenAll(subscribers.Select(s => s.Ready.Task)).WaitAsync(TimeSpan.FromMinutes(5));
        log($"{channels} channels followed by {subscribers.Count} WebSocket connections on one node");

        using var http = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        // One publication on every channel first, so each has a log and a position to resume from.
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (channel, ct) =>
            (await http.PostAsync($"v1/channels/{channel}/messages", Body("before"), ct)).Dispose());

        redis.Kill();
        log("redis killed");
        await Task.Delay(1000);
        await redis.RestartAsync();
        var clock = Stopwatch.StartNew();
        log("redis answers PING again: the clock starts");

        var random = new Random(5);
        var sample = names.OrderBy(_ => random.Next()).Take(samples).ToArray();
        var owner = subscribers.SelectMany(s => s.Channels.Select(c => (c, s))).ToDictionary(p => p.c, p => p.s, StringComparer.Ordinal);
        var pending = new HashSet<string>(sample, StringComparer.Ordinal);
        var keys = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var deadline = TimeSpan.FromSeconds(60);
        var round = 0;
        while (pending.Count > 0 && clock.Elapsed < deadline)
        {
            round++;
            await Task.WhenAll(pending.Select(async channel =>
            {
                var key = $"after-{round}-{channel}";
                lock (keys)
                {
                    if (!keys.TryGetValue(channel, out var set))
                        keys[channel] = set = [];
                    set.Add(key);
                }

                try
                {
                    (await http.PostAsync($"v1/channels/{channel}/messages", Body(key))).Dispose();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }));
            await Task.Delay(100);
            foreach (var channel in pending.ToArray())
            {
                HashSet<string> sent;
                lock (keys)
                    sent = keys[channel];
                if (owner[channel].Records[channel].Events.OfType<Seen>().Any(s => sent.Contains(s.Key)))
                    pending.Remove(channel);
            }
        }

        var live = clock.Elapsed;
        log(pending.Count == 0
            ? $"every one of {samples} sampled channels delivered a publication sent after Redis returned within {live.TotalSeconds:F2} s"
            : $"{pending.Count} of {samples} sampled channels delivered nothing within {deadline.TotalSeconds} s");
        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));
        return pending.Count == 0 ? live : TimeSpan.MaxValue;
    }

    private static StringContent Body(string key) =>
        new("{\"data\":{\"k\":\"" + key + "\"}}", Encoding.UTF8, "application/json");
}
