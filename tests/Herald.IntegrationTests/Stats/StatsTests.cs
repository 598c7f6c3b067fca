using System.Net;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.LongPoll;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Stats;

public sealed class StatsTests
{
    private static readonly Dictionary<string, string?> s_userTokens = new() { ["Herald:Auth:HmacSecret"] = Tokens.Secret };

    [Fact]
    public async Task Stats_need_an_api_key_by_default_and_a_user_token_is_not_enough()
    {
        await using var server = await TestServer.StartAsync("memory", s_userTokens);
        using var anonymous = server.CreateClient(apiKey: null);
        using var user = server.CreateClient(apiKey: Tokens.Mint("alice"));
        using var key = server.CreateClient();

        foreach (var path in (string[])["v1/stats", "v1/stats/stream"])
        {
            using var refused = await anonymous.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("unauthorized", (await refused.ReadJsonAsync()).GetProperty("code").GetString());

            using var forbidden = await user.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("forbidden", (await forbidden.ReadJsonAsync()).GetProperty("code").GetString());
        }

        using var answered = await key.GetAsync(new Uri("v1/stats", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("no-store", answered.Headers.CacheControl?.ToString());
        var stats = await answered.ReadJsonAsync();
        foreach (var member in (string[])["time", "uptimeSeconds", "intervalSeconds", "connections", "rates", "totals", "channels", "topChannels"])
            Assert.True(stats.TryGetProperty(member, out _), $"no '{member}' in {stats}");

        // An API key goes in a header (the dashboard reads the stream with fetch); in ?token= it would
        // be written to access logs, so it is refused there.
        await using var stream = await StatsStream.OpenAsync(key);
        Assert.NotNull(await stream.ReadAsync());
        using var inQuery = await anonymous.GetAsync(new Uri($"v1/stats/stream?token={TestServer.ApiKey}", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, inQuery.StatusCode);
    }

    [Fact]
    public async Task With_access_Anyone_anonymous_callers_read_the_stats()
    {
        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Stats:Access"] = "Anyone" });
        using var anonymous = server.CreateClient(apiKey: null);
        using var answered = await anonymous.GetAsync(new Uri("v1/stats", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        await using var stream = await StatsStream.OpenAsync(anonymous);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(await stream.ReadAsync());
        Assert.Equal(2000, stream.Retry);
    }

    [Fact]
    public async Task Stats_count_open_connections_per_transport_and_list_the_channels_with_most_subscribers()
    {
        await using var server = await TestServer.StartAsync("memory");
        using var client = server.CreateClient();
        await using var sseA = await PushClient.ConnectAsync(client, "sse", ["chat:a"]);
        await using var sseAb = await PushClient.ConnectAsync(client, "sse", ["chat:a", "chat:b"]);
        await using var streamA = await PushClient.ConnectAsync(client, "stream", ["chat:a"]);
        var ws = await WsClient.ConnectAsync(server);
        await ws.RequestAsync("""{"id":1,"op":"subscribe","channel":"chat:a"}""");
        await ws.RequestAsync("""{"id":2,"op":"subscribe","channel":"chat:c"}""");
        using var held = new CancellationTokenSource();
        var longPoll = client.PollAsync("chat:z", wait: 50, cancellationToken: held.Token);
        await server.WaitUntilHeldAsync(1);

        var stats = await WaitForStatsAsync(client, s => Connections(s) == "ws=1 sse=2 stream=1 longPoll=1", "every connection");
        Assert.Equal("chat:a=4 chat:b=1 chat:c=1", Top(stats));
        Assert.Equal(3, stats.GetProperty("channels").GetInt32());

        await ws.DisposeAsync();
        stats = await WaitForStatsAsync(client, s => Connections(s) == "ws=0 sse=2 stream=1 longPoll=1", "the WebSocket gone");
        Assert.Equal("chat:a=3 chat:b=1", Top(stats));

        await held.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longPoll);
        await WaitForStatsAsync(client, s => Connections(s) == "ws=0 sse=2 stream=1 longPoll=0", "the long poll gone");
    }

    [Fact]
    public async Task Stats_totals_count_publications_deliveries_and_polls()
    {
        await using var server = await TestServer.StartAsync("memory");
        using var client = server.CreateClient();
        await using var first = await PushClient.ConnectAsync(client, "sse", ["chat:lobby"]);
        await using var second = await PushClient.ConnectAsync(client, "stream", ["chat:lobby"]);
        for (var i = 0; i < 3; i++)
            await client.PublishDataAsync("chat:lobby", $$"""{"n":{{i}}}""");
        await client.PublishDataAsync("chat:nobody", "1");
        await client.HistoryAsync("chat:lobby");
        await client.HistoryAsync("chat:lobby", "?after=2");
        await client.PollAsync("chat:lobby", wait: 0);

        var stats = await WaitForStatsAsync(client, s => s.GetProperty("totals").GetProperty("deliveries").GetInt64() == 6, "six deliveries");
        var totals = stats.GetProperty("totals");
        Assert.Equal(4, totals.GetProperty("publications").GetInt64());
        Assert.Equal(0, totals.GetProperty("slowConsumerDisconnects").GetInt64());
        Assert.Equal(3, totals.GetProperty("shortPolls").GetInt64());
        Assert.Equal(0, totals.GetProperty("longPolls").GetInt64());
    }

    [Fact]
    public async Task The_stream_sends_a_snapshot_at_once_then_one_per_interval_with_rates_that_rise_and_fall()
    {
        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Stats:Interval"] = "00:00:00.2" });
        using var client = server.CreateClient();
        await using var stream = await StatsStream.OpenAsync(client);
        var first = await stream.ReadAsync();
        Assert.Equal(0, first!.Value.GetProperty("totals").GetProperty("publications").GetInt64());

        for (var i = 0; i < 4; i++)
            await client.PublishDataAsync("chat:lobby", $"{i}");

        await stream.ReadUntilAsync(s => s.GetProperty("rates").GetProperty("publications").GetDouble() > 0, "a publication rate");
        // Snapshots queue up in the stream: on a slow machine one taken between two of the
        // publishes may also show a rate of 0, so wait for the quiet one after all four.
        var quiet = await stream.ReadUntilAsync(
            s => s.GetProperty("rates").GetProperty("publications").GetDouble() == 0 && s.GetProperty("totals").GetProperty("publications").GetInt64() == 4,
            "the rate back at 0 after the four publications");
        Assert.Equal(4, quiet.GetProperty("totals").GetProperty("publications").GetInt64());
        Assert.InRange(quiet.GetProperty("intervalSeconds").GetDouble(), 0.1, 30);
    }

    [Fact]
    public async Task A_stats_stream_beyond_MaxStreams_is_refused_with_429_until_one_closes()
    {
        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Stats:MaxStreams"] = "1" });
        using var client = server.CreateClient();
        var open = await StatsStream.OpenAsync(client);

        using (var refused = await client.GetAsync(new Uri("v1/stats/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead).WaitAsync(HttpJson.Timeout))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("5", refused.Headers.GetValues("Retry-After").Single());
            Assert.Equal("too_many_streams", (await refused.ReadJsonAsync()).GetProperty("code").GetString());
        }

        // A snapshot is still answered while the stream slots are taken.
        using (var snapshot = await client.GetAsync(new Uri("v1/stats", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);

        await open.DisposeAsync();
        var deadline = DateTime.UtcNow + HttpJson.Timeout;
        while (true)
        {
            using var retry = await client.GetAsync(new Uri("v1/stats/stream", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead).WaitAsync(HttpJson.Timeout);
            if (retry.StatusCode == HttpStatusCode.OK)
                break;
            Assert.Equal(HttpStatusCode.TooManyRequests, retry.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "The closed stream's slot was never given back.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Stopping_the_server_ends_an_open_stats_stream()
    {
        var server = await TestServer.StartAsync("memory");
        using var client = server.CreateClient();
        await using var stream = await StatsStream.OpenAsync(client);
        Assert.NotNull(await stream.ReadAsync());

        var stopping = server.DisposeAsync().AsTask();
        while (await stream.ReadAsync() is not null)
        {
        }

        await stopping.WaitAsync(HttpJson.Timeout);
    }

    [Fact]
    public async Task TopChannels_bounds_the_list_and_stats_settings_out_of_range_stop_the_server_at_start()
    {
        await using (var server = await TestServer.StartAsync("memory", new Dictionary<string, string?> { ["Herald:Stats:TopChannels"] = "1", ["Herald:Stats:Interval"] = "00:00:00.1" }))
        {
            using var client = server.CreateClient();
            await using var a = await PushClient.ConnectAsync(client, "sse", ["chat:a", "chat:b"]);
            await using var b = await PushClient.ConnectAsync(client, "sse", ["chat:b"]);
            // Subscribed (in the hub) before the stats are read: a sample taken earlier may still list chat:a first.
            await a.ExpectAsync("subscribed");
            await a.ExpectAsync("subscribed");
            await b.ExpectAsync("subscribed");
            var stats = await WaitForStatsAsync(client, s => Connections(s) == "ws=0 sse=2 stream=0 longPoll=0" && Top(s) == "chat:b=2", "two SSE connections, chat:b on top");
            Assert.Equal("chat:b=2", Top(stats));
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("memory", new Dictionary<string, string?>
        {
            ["Herald:Stats:Interval"] = "00:00:00.099",
            ["Herald:Stats:TopChannels"] = "0",
            ["Herald:Stats:MaxStreams"] = "0",
        }));
        Assert.Contains("Herald:Stats:Interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Stats:TopChannels", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Stats:MaxStreams", error.Message, StringComparison.Ordinal);

        var tooLarge = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync("memory", new Dictionary<string, string?>
        {
            ["Herald:Stats:Interval"] = "00:01:00.001",
            ["Herald:Stats:TopChannels"] = "1001",
        }));
        Assert.Contains("Herald:Stats:Interval", tooLarge.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Stats:TopChannels", tooLarge.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForStatsAsync(HttpClient client, Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + HttpJson.Timeout;
        while (true)
        {
            using var response = await client.GetAsync(new Uri("v1/stats", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var stats = await response.ReadJsonAsync();
            if (condition(stats))
                return stats;
            Assert.True(DateTime.UtcNow < deadline, $"The stats never showed {what}: {stats}");
            await Task.Delay(20);
        }
    }

    private static string Connections(JsonElement stats)
    {
        var c = stats.GetProperty("connections");
        return $"ws={c.GetProperty("ws").GetInt32()} sse={c.GetProperty("sse").GetInt32()} stream={c.GetProperty("stream").GetInt32()} longPoll={c.GetProperty("longPoll").GetInt32()}";
    }

    private static string Top(JsonElement stats) =>
        string.Join(' ', stats.GetProperty("topChannels").EnumerateArray().Select(c => $"{c.GetProperty("channel").GetString()}={c.GetProperty("subscribers").GetInt32()}"));
}
