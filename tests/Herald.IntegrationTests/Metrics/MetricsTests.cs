using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Herald.IntegrationTests.Metrics;

public sealed partial class MetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly string Docs = Path.GetFullPath(Path.Combine(NodeScript.NodeDirectory, "..", "..", "docs"));

    [Fact]
    public async Task A_scrape_after_traffic_counts_exactly_the_connections_publications_deliveries_and_polls()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--Herald:ApiKeys:0=" + TestServer.ApiKey);
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Timeout };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);

            // Three subscribers of one channel, one per push transport.
            using var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri(server.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws"), CancellationToken.None).WaitAsync(Timeout);
            await ws.SendAsync("""{"id":1,"op":"subscribe","channel":"m:a"}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(Timeout);
            var wsLines = new WsLines(ws);
            Assert.Contains("\"subscribed\"", await wsLines.NextAsync(), StringComparison.Ordinal);
            using var sse = await OpenAsync(client, "v1/sse?channel=m:a");
            using var stream = await OpenAsync(client, "v1/stream?channel=m:a");
            await ReadUntilAsync(sse, "event: subscribed");
            await ReadUntilAsync(stream, "\"subscribed\"");

            for (var i = 1; i <= 5; i++)
            {
                using var published = await client.PublishAsync("m:a", $$"""{"data":{{i}}}""");
                Assert.Equal(HttpStatusCode.Created, published.StatusCode);
            }

            for (var i = 0; i < 5; i++)
            {
                await ReadUntilAsync(sse, "event: publication");
                await ReadUntilAsync(stream, "\"publication\"");
                Assert.Contains("\"publication\"", await wsLines.NextAsync(), StringComparison.Ordinal);
            }

            // Three short polls: two history reads and one poll with wait=0.
            await client.HistoryAsync("m:a");
            await client.HistoryAsync("m:b");
            (await client.GetAsync(new Uri("v1/poll?channel=m:a&wait=0", UriKind.Relative)).WaitAsync(Timeout)).Dispose();

            var samples = PrometheusText.Parse(await ScrapeAsync(client));
            Assert.Equal(1, samples.Value("herald_connections", "transport=ws"));
            Assert.Equal(1, samples.Value("herald_connections", "transport=sse"));
            Assert.Equal(1, samples.Value("herald_connections", "transport=stream"));
            Assert.Equal(0, samples.Value("herald_poll_held"));
            Assert.Equal(1, samples.Value("herald_hub_channels"));
            Assert.Equal(1, samples.Value("herald_node_channels"));
            Assert.Equal(5, samples.Value("herald_node_publications_total"));
            Assert.Equal(5, samples.Value("herald_hub_publications_total"));
            Assert.Equal(15, samples.Value("herald_hub_deliveries_total"));
            Assert.Equal(3, samples.Value("herald_poll_short_total"));
            Assert.Equal(0, samples.Value("herald_poll_long_total"));
            Assert.Equal(0, samples.Value("herald_node_duplicates_total"));
            Assert.Equal(0, samples.Value("herald_node_repaired_total"));
            Assert.Equal(0, samples.Value("herald_node_resets_total"));
            Assert.True(samples.Value("herald_session_messages_total") >= 15 + 3);
            Assert.All(samples.Where(s => s.Name.StartsWith("herald_", StringComparison.Ordinal)), s => Assert.Equal("Herald", s.Labels["otel_scope_name"]));

            // The runtime's and Kestrel's meters come along.
            Assert.Contains(samples, s => s.Name == "dotnet_gc_collections_total");
            Assert.Contains(samples, s => s.Name == "kestrel_active_connections");
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData("wrong-key", null, HttpStatusCode.Forbidden, "forbidden")]
    [InlineData(TestServer.ApiKey, null, HttpStatusCode.OK, null)]
    [InlineData(null, "Anyone", HttpStatusCode.OK, null)]
    [InlineData(null, "Authenticated", HttpStatusCode.Unauthorized, "unauthorized")]
    public async Task Metrics_are_guarded_by_Herald_Metrics_Access(string? key, string? access, HttpStatusCode expected, string? code)
    {
        var settings = new Dictionary<string, string?> { ["Herald:Stats:Access"] = "Anyone" };
        if (access is not null)
            settings["Herald:Metrics:Access"] = access;
        await using var server = await TestServer.StartAsync("memory", settings);
        using var client = server.CreateClient(key);
        using var response = await client.GetAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(Timeout);
        Assert.Equal(expected, response.StatusCode);
        if (code is not null)
            Assert.Equal(code, (await response.ReadJsonAsync()).GetProperty("code").GetString());
        else
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turning_Prometheus_off_removes_the_endpoint()
    {
        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Metrics:Prometheus"] = "false" });
        using var client = server.CreateClient();
        using var response = await client.GetAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("Herald:Metrics:Otlp:Endpoint", "not a url")]
    [InlineData("Herald:Metrics:Otlp:Protocol", "carrier-pigeon")]
    [InlineData("Herald:Metrics:Otlp:Interval", "00:00:00")]
    public async Task Invalid_metrics_settings_stop_the_start(string key, string value)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("memory", new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_instrument_of_the_Herald_meter_is_documented_and_every_documented_one_exists()
    {
        var published = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == global::Herald.Diagnostics.HeraldMetrics.MeterName)
                {
                    lock (published)
                        published.Add(instrument.Name);
                }
            },
        };
        listener.Start();

        // The static instruments exist once their classes are initialized; the node's once a node starts.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(global::Herald.Diagnostics.HeraldMetrics).TypeHandle);
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(global::Herald.Webhooks.WebhookMetrics).TypeHandle);
        await using (await TestServer.StartAsync("memory"))
        {
        }

        var documented = DocumentedInstruments().Keys.ToHashSet(StringComparer.Ordinal);
        string[] undocumented, missing;
        lock (published)
        {
            undocumented = [.. published.Except(documented).Order()];
            missing = [.. documented.Except(published).Order()];
        }

        Assert.True(undocumented.Length == 0, "not in docs/metrics.md: " + string.Join(", ", undocumented));
        Assert.True(missing.Length == 0, "in docs/metrics.md but not on the meter: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task The_Grafana_dashboard_queries_only_metrics_that_exist()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Docs, "grafana", "herald.json"))).RootElement;
        var expressions = dashboard.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
        Assert.NotEmpty(expressions);

        // Herald's names from docs/metrics.md (counters appear in a scrape only after their first
        // event); the runtime's and Kestrel's from a real scrape.
        var herald = DocumentedInstruments().Values.SelectMany(p => p).ToHashSet(StringComparer.Ordinal);
        await using var server = await TestServer.StartAsync("memory");
        using var client = server.CreateClient();
        var scraped = PrometheusText.Parse(await ScrapeAsync(client)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

        var referenced = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).Distinct().ToList();
        Assert.Contains(referenced, n => n.StartsWith("herald_", StringComparison.Ordinal));
        foreach (var name in referenced)
        {
            var exists = name.StartsWith("herald_", StringComparison.Ordinal) ? herald.Contains(name) : scraped.Contains(name);
            Assert.True(exists, $"the dashboard queries {name}, which Herald does not export");
        }

        // And every Herald metric is on the dashboard.
        var unused = DocumentedInstruments().Where(i => !i.Value.Any(referenced.Contains)).Select(i => i.Key).ToList();
        Assert.True(unused.Count == 0, "not on the dashboard: " + string.Join(", ", unused));
    }

    /// <summary>docs/metrics.md's rows: instrument name → its Prometheus names.</summary>
    private static Dictionary<string, string[]> DocumentedInstruments()
    {
        var rows = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (Match row in DocumentedRow().Matches(File.ReadAllText(Path.Combine(Docs, "metrics.md"))))
        {
            var prometheus = row.Groups["prometheus"].Value;
            rows[row.Groups["instrument"].Value] = row.Groups["histogram"].Success
                ? [prometheus + "_bucket", prometheus + "_sum", prometheus + "_count"]
                : [prometheus];
        }

        Assert.True(rows.Count > 20, $"only {rows.Count} instruments found in docs/metrics.md");
        return rows;
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
    }

    private static async Task<StreamReader> OpenAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(Timeout), Encoding.UTF8);
    }

    private static async Task ReadUntilAsync(StreamReader reader, string marker)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
                return;
        }

        Assert.Fail($"the response ended before '{marker}'");
    }

    [GeneratedRegex("""\| `(?<instrument>herald\.[a-z_.]+)` → `(?<prometheus>herald_[a-z_]+)`(?<histogram> \(`_bucket`)?""")]
    private static partial Regex DocumentedRow();

    [GeneratedRegex("""\b(herald|dotnet|kestrel)_[a-z_]+\b""")]
    private static partial Regex MetricName();

    /// <summary>Messages of a WebSocket, split on '\n' across frames.</summary>
    private sealed class WsLines(ClientWebSocket socket)
    {
        private readonly Queue<string> pending = new();
        private readonly byte[] buffer = new byte[64 * 1024];

        public async Task<string> NextAsync()
        {
            while (pending.Count == 0)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Timeout);
                // The node's heartbeat may come at any moment (its connections are pinged in slices).
                foreach (var line in Encoding.UTF8.GetString(buffer, 0, result.Count).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (line != """{"type":"ping"}""")
                        pending.Enqueue(line);
                }
            }

            return pending.Dequeue();
        }
    }
}
