// Unread counts over many channels: a real `herald serve` (SQLite) with --channels channels of
// --messages messages each; one user has read each channel up to a random offset (and is mentioned
// in some). Then, while --rate publications a second keep arriving on those channels, the tool asks
// GET /v1/me/unread --requests times, one after another, for all the user's channels and for an
// explicit list of them, and reports the latency of each (HdrHistogram). --check verifies every
// answer lists every channel and that the last answer's counts equal the history's.
//
//   dotnet run -c Release --project bench/Herald.UnreadBench -- --channels 500 --messages 20 --requests 2000 --rate 200 --check
//   options: --herald src/Herald.Server/bin/Release/net10.0/herald.dll  --server-cpu 0 (taskset)  --warmup 200
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using Herald.WebhookBench;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

var channels = IntOption("--channels", 500);
var messages = IntOption("--messages", 20);
var requests = IntOption("--requests", 2000);
var warmupRequests = IntOption("--warmup", 200);
var rate = IntOption("--rate", 200);
var check = args.Contains("--check");
var cpu = Option("--server-cpu");
var herald = Option("--herald") ?? Path.Combine(RepositoryRoot(), "src", "Herald.Server", "bin", "Release", "net10.0", "herald.dll");
const string ApiKey = "unread-bench-key-0123456789";
const string Secret = "unread-bench-hmac-secret-0123456789abcdef";

await using var server = await HeraldServer.StartAsync(herald, ApiKey, cpu,
[
    "--Herald:Auth:HmacSecret=" + Secret,
    "--Herald:Namespaces:room:Subscribe=Authenticated",
    "--Herald:Unread:MaxChannels=" + Math.Max(500, channels),
    "--Herald:MaxRequestTargetBytes=65536",
]);

using var api = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
using var alice = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
alice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Mint("alice"));

var names = Enumerable.Range(0, channels).Select(i => $"room:c{i}").ToArray();
Console.WriteLine($"herald={herald} channels={channels} messages={messages} requests={requests} rate={rate}/s");

// Seed: every channel gets its messages (every fifth mentions alice); alice reads each up to a random offset.
var seeding = Stopwatch.StartNew();
await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (channel, token) =>
{
    for (var i = 1; i <= messages; i++)
        await PublishAsync(api, channel, "{\"data\":{\"i\":" + i + "}" + (i % 5 == 0 ? ",\"mentions\":[\"alice\"]" : string.Empty) + "}", token);
    var read = Random.Shared.Next(0, messages + 1);
    using var mark = await alice.PutAsync(new Uri($"v1/channels/{channel}/read", UriKind.Relative),
        new StringContent($$"""{"offset":{{read}}}""", Encoding.UTF8, "application/json"), token);
    mark.EnsureSuccessStatusCode();
});
Console.WriteLine($"seeded {channels * messages} messages and {channels} markers in {seeding.Elapsed.TotalSeconds:F1} s");

// Background writers: the counts change while they are read.
using var stop = new CancellationTokenSource();
long background = 0;
var writer = rate <= 0 ? Task.CompletedTask : Task.Run(async () =>
{
    var interval = TimeSpan.FromSeconds(1.0 / rate);
    var next = Stopwatch.GetTimestamp();
    while (!stop.IsCancellationRequested)
    {
        await PublishAsync(api, names[Random.Shared.Next(names.Length)], """{"data":"more"}""", CancellationToken.None);
        background++;
        next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
    }
});

var list = "v1/me/unread?channels=" + string.Join(',', names);
// The two kinds of request alternate, warm-up included: each is measured under the same
// conditions (the JIT's tiers, the heap's size, the background writes), not one after the other.
var measured = await MeasureAsync(("all of mine", "v1/me/unread"), ($"{channels} listed", list));
await stop.CancelAsync();
await writer;
Console.WriteLine($"background publications during the measurement: {background}");

if (check)
{
    // Quiet now: the counts must equal the history's (every message after alice's marker).
    var summary = await GetJsonAsync(alice, list);
    long expected = 0;
    foreach (var entry in summary.GetProperty("channels").EnumerateArray())
    {
        var channel = entry.GetProperty("channel").GetString()!;
        var read = entry.TryGetProperty("read", out var marker) ? marker.GetProperty("offset").GetInt64() : 0;
        var history = await GetJsonAsync(api, $"v1/channels/{channel}/messages?after={read}&limit=1000");
        var count = history.GetProperty("publications").GetArrayLength();
        if (count != entry.GetProperty("unread").GetInt64())
            throw new InvalidOperationException($"{channel}: unread {entry.GetProperty("unread").GetInt64()}, history after the marker {count}");
        expected += count;
    }

    if (expected != summary.GetProperty("total").GetInt64())
        throw new InvalidOperationException($"total {summary.GetProperty("total").GetInt64()}, expected {expected}");
    Console.WriteLine($"check: {channels} channels, total {expected} unread, every count equals the history's");
}

Console.WriteLine($"| request | p50 | p90 | p99 | max |");
Console.WriteLine($"|---|---|---|---|---|");
foreach (var (name, histogram) in measured)
    Console.WriteLine($"| GET /v1/me/unread, {name} | {Ms(histogram, 50)} | {Ms(histogram, 90)} | {Ms(histogram, 99)} | {histogram.GetMaxValue() / 1000.0:F2} ms |");
return 0;

async Task<(string Name, LongHistogram Histogram)[]> MeasureAsync(params (string Name, string Path)[] kinds)
{
    // Timed: the request until its answer's last byte is in (into a buffer reused across requests,
    // so the client's own allocations and JSON parsing do not count as the server's latency).
    // The answer is parsed, and checked, after the clock stops.
    var histograms = kinds.Select(_ => new LongHistogram(TimeSpan.FromSeconds(10).Ticks / 10, 3)).ToArray();
    var buffer = new MemoryStream(256 * 1024);
    for (var i = 0; i < warmupRequests + requests; i++)
    {
        for (var k = 0; k < kinds.Length; k++)
        {
            buffer.SetLength(0);
            var started = Stopwatch.GetTimestamp();
            using (var response = await alice.GetAsync(new Uri(kinds[k].Path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
            {
                response.EnsureSuccessStatusCode();
                await response.Content.CopyToAsync(buffer);
            }

            var micros = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (i >= warmupRequests)
                histograms[k].RecordValue(micros);
            if (check)
            {
                using var answer = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                if (answer.RootElement.GetProperty("channels").GetArrayLength() != channels)
                    throw new InvalidOperationException($"{kinds[k].Name}: {answer.RootElement.GetProperty("channels").GetArrayLength()} channels answered, expected {channels}");
            }
        }
    }

    return [.. kinds.Select((kind, k) => (kind.Name, histograms[k]))];
}

static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
{
    using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
    response.EnsureSuccessStatusCode();
    await using var body = await response.Content.ReadAsStreamAsync();
    using var document = await JsonDocument.ParseAsync(body);
    return document.RootElement.Clone();
}

static async Task PublishAsync(HttpClient client, string channel, string body, CancellationToken token)
{
    using var response = await client.PostAsync(new Uri($"v1/channels/{channel}/messages", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), token);
    response.EnsureSuccessStatusCode();
}

static string Ms(LongHistogram histogram, double percentile) =>
    (histogram.GetValueAtPercentile(percentile) / 1000.0).ToString("F2", CultureInfo.InvariantCulture) + " ms";

static string Mint(string user) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
{
    Subject = new ClaimsIdentity([new Claim("sub", user)]),
    Expires = DateTime.UtcNow.AddHours(1),
    SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
});

int IntOption(string name, int fallback) =>
    Option(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            return dir.FullName;
    }

    throw new InvalidOperationException("Run from inside the repository (Herald.slnx not found).");
}
