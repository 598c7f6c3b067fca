// Outbound webhook throughput: a real `herald serve` (SQLite, durable outbox) delivers every
// publication of `wbench:*` to a local receiver that verifies each signature. Publishers POST
// through the HTTP API for --seconds (after --warmup); the tool reports deliveries per second
// during that window, the backlog, end-to-end latency (publication time to receipt), and then
// waits until every acknowledged publication has arrived: --check fails the run on any loss,
// bad signature or webhook-id reused for another publication.
//
//   taskset -c 1 dotnet run -c Release --project bench/Herald.WebhookBench -- --server-cpu 0 --seconds 20
// --backlog N measures the outbox drained alone: an ordered subscription is held at its first
// delivery (the receiver does not answer) while N publications are committed, then made unordered
// and released, and the tool times how fast all N arrive.
//
//   options: --backlog 0 (0 = steady state)  --rate 0 (publications/s in all, 0 = as fast as the publishers go)  --publishers 16
//            --channels 4  --warmup 3  --concurrency 32 (per subscription)  --drain 120  --check
//            --herald src/Herald.Server/bin/Release/net10.0/herald.dll
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.WebhookBench;

var seconds = IntOption("--seconds", 10);
var warmup = IntOption("--warmup", 3);
var rate = IntOption("--rate", 0);
var publishers = IntOption("--publishers", 16);
var channels = IntOption("--channels", 4);
var concurrency = IntOption("--concurrency", 32);
var drainSeconds = IntOption("--drain", 120);
var check = args.Contains("--check");
// Publish only, no subscription: what the publishing alone costs the server, to subtract.
var baseline = args.Contains("--baseline");
var backlog = IntOption("--backlog", 0);
var cpu = Option("--server-cpu");
var herald = Option("--herald") ?? Path.Combine(RepositoryRoot(), "src", "Herald.Server", "bin", "Release", "net10.0", "herald.dll");
const string ApiKey = "webhook-bench-key-0123456789";

await using var receiver = await Receiver.StartAsync();
await using var server = await HeraldServer.StartAsync(herald, ApiKey, cpu,
[
    "--Herald:Webhooks:Outbound:AllowPrivateTargets=true",
    $"--Herald:Webhooks:Outbound:MaxConcurrencyPerSubscription={concurrency}",
    $"--Herald:Webhooks:Outbound:MaxConcurrency={Math.Max(concurrency, 256)}",
]);

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = publishers + 4 }) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
if (!baseline)
{
using (var subscribe = await client.PostAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative),
    new StringContent($$"""{"url":"{{receiver.Url}}","channels":["wbench:*"],"ordered":{{(backlog > 0 ? "true" : "false")}}}""", Encoding.UTF8, "application/json")))
{
    var text = await subscribe.Content.ReadAsStringAsync();
    if (!subscribe.IsSuccessStatusCode)
        throw new InvalidOperationException($"subscribe answered {(int)subscribe.StatusCode}: {text}");
    receiver.UseSecret(JsonDocument.Parse(text).RootElement.GetProperty("secret").GetString()!);
}
}

Console.WriteLine($"herald={herald} server-cpu={cpu ?? "any"} publishers={publishers} channels={channels} rate={(rate == 0 ? "max" : rate.ToString(CultureInfo.InvariantCulture))}/s warmup={warmup}s seconds={seconds}s concurrency={concurrency}");

var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
long published = 0;
long failedPublishes = 0;
using var stop = new CancellationTokenSource();
var clock = Stopwatch.StartNew();
if (backlog > 0)
    return await DrainBacklogAsync();
var tasks = Enumerable.Range(0, publishers).Select(p => Task.Run(() => PublishAsync(p))).ToArray();

await Task.Delay(TimeSpan.FromSeconds(warmup));
var (publishedAtStart, receivedAtStart, distinctAtStart, cpuAtStart, startedAt) = (Interlocked.Read(ref published), receiver.Received, receiver.Distinct, server.CpuTime, clock.Elapsed);
await Task.Delay(TimeSpan.FromSeconds(seconds));
var (publishedAtEnd, receivedAtEnd, distinctAtEnd, cpuAtEnd, endedAt) = (Interlocked.Read(ref published), receiver.Received, receiver.Distinct, server.CpuTime, clock.Elapsed);
await stop.CancelAsync();
await Task.WhenAll(tasks);

var window = (endedAt - startedAt).TotalSeconds;
var delivered = (distinctAtEnd - distinctAtStart) / window;
var total = acknowledged.Count;
Console.WriteLine(Invariant($"window: published {(publishedAtEnd - publishedAtStart) / window:F0}/s, delivered {delivered:F0}/s ({(receivedAtEnd - receivedAtStart) / window:F0} requests/s), backlog at end {total - distinctAtEnd:N0}, server CPU {(cpuAtEnd - cpuAtStart).TotalSeconds / window * 100:F0} % of a core"));

if (baseline)
    return 0;

// Drain: every acknowledged publication must arrive.
var drainStarted = clock.Elapsed;
var deadline = DateTime.UtcNow.AddSeconds(drainSeconds);
while (receiver.Distinct < total && DateTime.UtcNow < deadline)
    await Task.Delay(50);
var drained = clock.Elapsed;
var positions = receiver.Positions();
var lost = acknowledged.Count(p => !positions.Contains(p));
var latency = receiver.Latency;
Console.WriteLine(Invariant($"all: {total:N0} published ({Interlocked.Read(ref failedPublishes)} failed), {receiver.Distinct:N0} delivered in {drained.TotalSeconds:F1} s ({receiver.Distinct / drained.TotalSeconds:F0}/s overall, drain {(drained - drainStarted).TotalSeconds:F1} s), lost {lost}, duplicates {receiver.Duplicates}, conflicting ids {receiver.Conflicts}, bad signatures {receiver.BadSignatures}"));
Console.WriteLine(Invariant($"latency publication -> receipt: p50 {latency.GetValueAtPercentile(50) / 1000.0:F1} ms, p99 {latency.GetValueAtPercentile(99) / 1000.0:F1} ms, max {latency.GetValueAtPercentile(100) / 1000.0:F1} ms"));
Console.WriteLine(Invariant($"RESULT delivered_per_s={delivered:F0} published={total} lost={lost} duplicates={receiver.Duplicates} conflicts={receiver.Conflicts} bad_signatures={receiver.BadSignatures}"));

var failed = lost > 0 || receiver.Conflicts > 0 || receiver.BadSignatures > 0 || total == 0;
if (check && failed)
{
    Console.Error.WriteLine("webhook bench check failed: every acknowledged publication must arrive once per webhook-id, signed.");
    return 1;
}

return 0;

async Task<int> DrainBacklogAsync()
{
    receiver.Close();
    var subscription = JsonDocument.Parse(await client.GetStringAsync(new Uri("v1/webhooks/subscriptions", UriKind.Relative))).RootElement
        .GetProperty("subscriptions")[0].GetProperty("id").GetString();
    var fill = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, publishers).Select(p => Task.Run(() => PublishAsync(p, backlog / publishers + (p < backlog % publishers ? 1 : 0)))));
    Console.WriteLine(Invariant($"backlog: {acknowledged.Count:N0} publications committed with their deliveries in {fill.Elapsed.TotalSeconds:F1} s ({Interlocked.Read(ref failedPublishes)} failed)"));

    var cpuBefore = server.CpuTime;
    var drain = Stopwatch.StartNew();
    using (var unordered = new HttpRequestMessage(HttpMethod.Patch, $"v1/webhooks/subscriptions/{subscription}") { Content = new StringContent("""{"ordered":false}""", Encoding.UTF8, "application/json") })
    using (var answer = await client.SendAsync(unordered))
        answer.EnsureSuccessStatusCode();
    receiver.Open();
    var limit = DateTime.UtcNow.AddSeconds(drainSeconds);
    while (receiver.Distinct < acknowledged.Count && DateTime.UtcNow < limit)
        await Task.Delay(10);
    var seconds = drain.Elapsed.TotalSeconds;
    var cpu = (server.CpuTime - cpuBefore).TotalSeconds;
    var positions = receiver.Positions();
    var lost = acknowledged.Count(p => !positions.Contains(p));
    var rate = receiver.Distinct / seconds;
    Console.WriteLine(Invariant($"drain: {receiver.Distinct:N0} delivered in {seconds:F2} s = {rate:F0} deliveries/s, server CPU {cpu / seconds * 100:F0} % of a core ({cpu / Math.Max(1, receiver.Distinct) * 1e6:F0} µs per delivery)"));
    Console.WriteLine(Invariant($"RESULT delivered_per_s={rate:F0} published={acknowledged.Count} lost={lost} duplicates={receiver.Duplicates} conflicts={receiver.Conflicts} bad_signatures={receiver.BadSignatures}"));
    return check && (lost > 0 || receiver.Conflicts > 0 || receiver.BadSignatures > 0) ? 1 : 0;
}

async Task PublishAsync(int publisher, int count = int.MaxValue)
{
    var channel = $"wbench:{publisher % channels}";
    var uri = new Uri($"v1/channels/{channel}/messages", UriKind.Relative);
    var interval = rate == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)publishers / rate);
    var next = clock.Elapsed;
    for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
    {
        if (interval > TimeSpan.Zero)
        {
            next += interval;
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
        }

        try
        {
            using var content = new StringContent(Invariant($"{{\"data\":{{\"p\":{publisher},\"i\":{i}}}}}"), Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(uri, content);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failedPublishes);
                continue;
            }

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            acknowledged.Add($"{channel}/{answer.RootElement.GetProperty("offset").GetInt64()}");
            Interlocked.Increment(ref published);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref failedPublishes);
        }
    }
}

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

int IntOption(string name, int fallback) => Option(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            return dir.FullName;
    }

    return Environment.CurrentDirectory;
}
