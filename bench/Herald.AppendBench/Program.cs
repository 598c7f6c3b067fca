// Append throughput and latency of a channel log under N concurrent publishers, each awaiting
// its append before sending the next (as an HTTP publish does).
//
//   dotnet run -c Release --project bench/Herald.AppendBench -- --publishers 64 --seconds 10 --channels 4
//   options: --store sqlite|memory|redis|redis-raw  --sync normal|full  --warmup 2  --bytes 64  --path file.db
//            --redis 127.0.0.1:6379 (redis, redis-raw; bench/redis/append.sh starts one per fsync mode)
//   redis-raw: no Herald at all — each publisher evaluates a minimal Lua script doing the Redis work
//   every append needs (the offset counter, XADD with trimming, PUBLISH), to compare Herald's
//   append path against the floor of the same work on the same server.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;
using Herald.AppendBench;
using Herald.Engine.Memory;
using Herald.Engine;
using Herald.Redis;
using Herald.Sqlite;
using StackExchange.Redis;

var publishers = IntOption("--publishers", 64);
var seconds = IntOption("--seconds", 10);
var channels = IntOption("--channels", 4);
var warmup = IntOption("--warmup", 2);
var bytes = IntOption("--bytes", 64);
var store = Option("--store") ?? "sqlite";
var sync = string.Equals(Option("--sync"), "full", StringComparison.OrdinalIgnoreCase) ? SqliteSynchronous.Full : SqliteSynchronous.Normal;
var keepFile = Option("--path") is not null;
var path = Option("--path") ?? Path.Combine(Path.GetTempPath(), $"herald-bench-{Guid.NewGuid():N}.db");

var redisConfiguration = Option("--redis") ?? "127.0.0.1:6379";
ConnectionMultiplexer? redis = store.StartsWith("redis", StringComparison.Ordinal)
    ? await ConnectionMultiplexer.ConnectAsync(redisConfiguration)
    : null;
IChannelLog log = store switch
{
    "sqlite" => new SqliteChannelLog(path, options: new SqliteChannelLogOptions { Synchronous = sync }),
    "memory" => new MemoryChannelLog(),
    "redis" => new RedisChannelLog(redis!, new RedisEngineOptions
    {
        Configuration = redisConfiguration,
        Prefix = "bench" + Guid.NewGuid().ToString("N")[..8],
        // HERALD_REDIS_CALLS_IN_FLIGHT: compare settings of Herald:Redis:MaxCallsInFlight.
        MaxCallsInFlight = int.TryParse(Environment.GetEnvironmentVariable("HERALD_REDIS_CALLS_IN_FLIGHT"), out var inFlight) ? inFlight : new RedisEngineOptions().MaxCallsInFlight,
    }),
    "redis-raw" => new RawScriptLog(redis!.GetDatabase()),
    _ => throw new ArgumentException($"--store is 'sqlite', 'memory', 'redis' or 'redis-raw', not '{store}'."),
};

// A JSON string of the requested size: {"t":"xxxx..."}.
var payload = Encoding.UTF8.GetBytes("{\"t\":\"" + new string('x', Math.Max(0, bytes - 8)) + "\"}");
var names = Enumerable.Range(0, channels).Select(i => $"bench:ch{i}").ToArray();
var retention = Retention.Default;

Console.WriteLine($"store={store}{(store == "sqlite" ? $" ({path}, synchronous={sync})" : store.StartsWith("redis", StringComparison.Ordinal) ? $" ({redisConfiguration})" : "")} publishers={publishers} channels={channels} payload={payload.Length} B warmup={warmup}s seconds={seconds}");

// 0: warming up, 1: measuring, 2: stopping.
var phase = 0;
var histograms = new LongHistogram[publishers];
var counts = new long[publishers];
var tasks = new Task[publishers];
for (var p = 0; p < publishers; p++)
{
    var index = p;
    // 60 s in microseconds, 3 significant digits.
    histograms[index] = new LongHistogram(60_000_000, 3);
    tasks[index] = Task.Run(async () =>
    {
        var histogram = histograms[index];
        var channel = names[index % names.Length];
        long count = 0;
        long iterations = 0;
        while (true)
        {
            var current = Volatile.Read(ref phase);
            if (current == 2)
                break;

            // The memory store completes synchronously: yield now and then so the timer can stop the run.
            if ((++iterations & 1023) == 0)
                await Task.Yield();

            var start = Stopwatch.GetTimestamp();
            await log.AppendAsync(new AppendRequest(channel, payload, retention));
            if (current == 1)
            {
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds));
                count++;
            }
        }

        counts[index] = count;
    });
}

await Task.Delay(TimeSpan.FromSeconds(warmup));
var measured = Stopwatch.StartNew();
var cpuBefore = Environment.CpuUsage.TotalTime;
Volatile.Write(ref phase, 1);
await Task.Delay(TimeSpan.FromSeconds(seconds));
Volatile.Write(ref phase, 2);
measured.Stop();
var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
await Task.WhenAll(tasks);
await log.DisposeAsync();
if (redis is not null)
    await redis.DisposeAsync();

var all = new LongHistogram(60_000_000, 3);
foreach (var histogram in histograms)
    all.Add(histogram);

var total = counts.Sum();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"appends: {total:N0} in {measured.Elapsed.TotalSeconds:F2} s = {total / measured.Elapsed.TotalSeconds:N0} appends/s"));
// CPU per append stays comparable when other processes share the machine; throughput does not.
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"cpu: {cpu.TotalSeconds:F2} s = {cpu.TotalMicroseconds / Math.Max(1, total):F2} µs per append, {cpu / measured.Elapsed:F2} of {Environment.ProcessorCount} cores"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"latency µs: p50 {all.GetValueAtPercentile(50)}  p99 {all.GetValueAtPercentile(99)}  p99.9 {all.GetValueAtPercentile(99.9)}  max {all.GetMaxValue()}"));
if (log is SqliteChannelLog && !keepFile)
{
    foreach (var suffix in new[] { "", "-wal", "-shm" })
        File.Delete(path + suffix);
}

string? Option(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

int IntOption(string name, int fallback) =>
    Option(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
