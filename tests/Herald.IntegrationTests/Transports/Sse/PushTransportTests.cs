using System.Net;
using System.Text.Json;
using Herald.Engine;

namespace Herald.IntegrationTests.Transports;

/// <summary>
/// What /v1/sse and /v1/stream both promise, run once per transport (SseTransportTests,
/// StreamTransportTests): subscribe replies first, live delivery, exact resume from a cursor,
/// an explicit reset for a stale cursor, headers, and clear 4xx answers.
/// </summary>
public abstract class PushTransportTests : IAsyncLifetime
{
    private TestServer server = null!;

    protected abstract string Transport { get; }

    protected TestServer Server => server;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Namespaces:secret:Subscribe"] = "ServerOnly",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_subscriber_gets_a_subscribed_message_first_then_live_publications_in_order()
    {
        var channel = NewChannel("chat");
        using var api = server.CreateClient();
        await using var push = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [channel]);

        var subscribed = await push.ExpectAsync("subscribed");
        Assert.True(subscribed.Entry(channel).GetProperty("recovered").GetBoolean());
        Assert.Equal(0, subscribed.Entry(channel).GetProperty("offset").GetInt64());
        Assert.False(string.IsNullOrEmpty(subscribed.Cursor));
        Assert.Equal(subscribed.Cursor, subscribed.Json.GetProperty("cursor").GetString());

        await PublishManyAsync(api, channel, 1, 10);
        var publications = await push.ReadPublicationsAsync(10);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), publications.Select(p => p.Offset));
        Assert.Equal(Enumerable.Range(1, 10), publications.Select(p => p.Json.GetProperty("data").GetProperty("n").GetInt32()));
        Assert.All(publications, p => Assert.Equal(channel, p.Channel));
        Assert.All(publications, p => Assert.Matches("^[A-Za-z0-9_-]+$", p.Cursor!));
    }

    [Fact]
    public async Task Resume_after_a_cut_delivers_exactly_the_missed_publications_in_order()
    {
        var channel = NewChannel("chat");
        using var api = server.CreateClient();
        string cursor;
        await using (var first = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [channel]))
        {
            await first.ExpectAsync("subscribed");
            await PublishManyAsync(api, channel, 1, 5);
            var seen = await first.ReadPublicationsAsync(5);
            cursor = seen[^1].Cursor!;
        }

        // The connection is cut mid-stream; 500 more are published while the client is away.
        await PublishManyAsync(api, channel, 6, 500);

        await using var second = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [channel], cursor);
        var subscribed = await second.ExpectAsync("subscribed");
        Assert.True(subscribed.Entry(channel).GetProperty("recovered").GetBoolean());
        Assert.Equal(5, subscribed.Entry(channel).GetProperty("offset").GetInt64());

        var missed = await second.ReadPublicationsAsync(500);
        Assert.Equal(Enumerable.Range(6, 500).Select(i => (long)i), missed.Select(p => p.Offset));
        Assert.Equal(Enumerable.Range(6, 500), missed.Select(p => p.Json.GetProperty("data").GetProperty("n").GetInt32()));

        // Nothing more was queued: the next message is the next publication, not a duplicate.
        await PublishManyAsync(api, channel, 506, 1);
        var next = await second.ExpectAsync("publication");
        Assert.Equal(506, next.Offset);
    }

    [Fact]
    public async Task A_cursor_from_another_epoch_is_answered_with_recovered_false_and_nothing_is_replayed()
    {
        var channel = NewChannel("chat");
        using var api = server.CreateClient();
        await PublishManyAsync(api, channel, 1, 3);
        var stale = Channels.Cursor.Encode(channel, new Position("stale-ep", 2));

        await using var push = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [channel], stale);
        var subscribed = await push.ExpectAsync("subscribed");
        var entry = subscribed.Entry(channel);
        Assert.False(entry.GetProperty("recovered").GetBoolean());
        Assert.Equal(3, entry.GetProperty("offset").GetInt64());
        Assert.NotEqual("stale-ep", entry.GetProperty("epoch").GetString());

        await PublishManyAsync(api, channel, 4, 1);
        var next = await push.ExpectAsync("publication");
        Assert.Equal(4, next.Offset);
    }

    [Fact]
    public async Task A_twenty_channel_cursor_round_trips_and_resumes_every_channel_exactly()
    {
        var channels = Enumerable.Range(0, 20).Select(i => NewChannel("room") + "-" + i).ToArray();
        using var api = server.CreateClient();
        string cursor;
        await using (var first = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, channels))
        {
            for (var i = 0; i < channels.Length; i++)
                await first.ExpectAsync("subscribed");
            foreach (var channel in channels)
                await PublishManyAsync(api, channel, 1, 2);
            var seen = await first.ReadPublicationsAsync(40);
            cursor = seen[^1].Cursor!;
        }

        foreach (var channel in channels)
            await PublishManyAsync(api, channel, 3, 3);

        await using var second = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, channels, cursor);
        var got = new List<PushMessage>();
        var subscribedCount = 0;
        while (got.Count < 60)
        {
            var message = await second.ReadAsync();
            Assert.NotNull(message);
            if (message.Type == "subscribed")
            {
                subscribedCount++;
                foreach (var entry in message.Json.GetProperty("channels").EnumerateObject())
                {
                    Assert.True(entry.Value.GetProperty("recovered").GetBoolean(), entry.Name);
                    Assert.Equal(2, entry.Value.GetProperty("offset").GetInt64());
                }

                continue;
            }

            Assert.Equal("publication", message.Type);
            got.Add(message);
        }

        Assert.Equal(20, subscribedCount);
        foreach (var channel in channels)
            Assert.Equal([3L, 4L, 5L], got.Where(p => p.Channel == channel).Select(p => p.Offset));
    }

    [Fact]
    public async Task Data_with_line_breaks_survives_as_one_message()
    {
        var channel = NewChannel("chat");
        using var api = server.CreateClient();
        await using var push = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [channel]);
        await push.ExpectAsync("subscribed");

        using (var escaped = await api.PublishAsync(channel, """{"data":{"text":"line1\nline2\r\nline3","fake":"\n\ndata: {}\n\nevent: disconnect"}}"""))
            Assert.Equal(HttpStatusCode.Created, escaped.StatusCode);

        // Raw line breaks between JSON tokens (pretty-printed data) must not split the event either.
        using (var pretty = await api.PublishAsync(channel, "{\"data\":\n  {\n    \"list\": [1,\n 2],\r\n    \"s\": \"a\\nb\"\n  }\n}"))
            Assert.Equal(HttpStatusCode.Created, pretty.StatusCode);

        var messages = await push.ReadPublicationsAsync(2);
        var first = messages[0].Json.GetProperty("data");
        Assert.Equal("line1\nline2\r\nline3", first.GetProperty("text").GetString());
        Assert.Equal("\n\ndata: {}\n\nevent: disconnect", first.GetProperty("fake").GetString());
        var second = messages[1].Json.GetProperty("data");
        Assert.Equal([1, 2], second.GetProperty("list").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("a\nb", second.GetProperty("s").GetString());
    }

    [Fact]
    public async Task The_response_is_an_uncompressed_uncached_stream()
    {
        await using var push = await PushClient.ConnectAsync(server.CreateClient(apiKey: null), Transport, [NewChannel("chat")]);
        var response = push.Response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Transport == "sse" ? "text/event-stream" : "application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        if (Transport == "sse")
            Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.True(response.Headers.CacheControl?.NoCache, "Cache-Control: no-cache");
        Assert.Equal("no", Assert.Single(response.Headers.GetValues("X-Accel-Buffering")));
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.True(response.Headers.TransferEncodingChunked, "Transfer-Encoding: chunked");
        await push.ExpectAsync("subscribed");
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest, "invalid_query")]
    [InlineData("?channel=nonamespace", HttpStatusCode.BadRequest, "invalid_channel")]
    [InlineData("?channel=chat:a&cursor=%21%21not-base64", HttpStatusCode.BadRequest, "invalid_cursor")]
    [InlineData("?channel=chat:a&cursor=AQAAAA", HttpStatusCode.BadRequest, "invalid_cursor")]
    [InlineData("?channel=chat:a&cursor=AgAAAA", HttpStatusCode.BadRequest, "invalid_cursor")]
    [InlineData("?channel=secret:plans", HttpStatusCode.Unauthorized, "unauthorized")]
    public async Task A_bad_request_is_refused_with_a_problem_document(string query, HttpStatusCode status, string code)
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync(new Uri($"v1/{Transport}{query}", UriKind.Relative)).WaitAsync(PushClient.ReadTimeout);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(code, problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_malformed_last_event_id_header_is_refused()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/{Transport}?channel=chat:a");
        request.Headers.Add("Last-Event-ID", "garbage!");
        using var response = await anonymous.SendAsync(request).WaitAsync(PushClient.ReadTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_cursor", (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_server_only_namespace_is_open_to_an_API_key()
    {
        var channel = NewChannel("secret");
        await using var push = await PushClient.ConnectAsync(server.CreateClient(), Transport, [channel]);
        await push.ExpectAsync("subscribed");
    }

    [Fact]
    public async Task Shutdown_ends_the_stream_with_a_reconnect_disconnect_message()
    {
        var own = await TestServer.StartAsync(store: "memory");
        PushClient push;
        try
        {
            push = await PushClient.ConnectAsync(own.CreateClient(apiKey: null), Transport, [NewChannel("chat")]);
            await push.ExpectAsync("subscribed");
        }
        finally
        {
            await own.DisposeAsync();
        }

        await using (push)
        {
            var disconnect = await push.ExpectAsync("disconnect");
            Assert.Equal(3001, disconnect.Json.GetProperty("code").GetInt32());
            Assert.Equal("shutdown", disconnect.Json.GetProperty("reason").GetString());
            Assert.True(disconnect.Json.GetProperty("reconnect").GetBoolean());
            Assert.Null(await push.ReadAsync());
        }
    }

    [Fact]
    public async Task An_idle_connection_hears_heartbeats()
    {
        await using var own = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:HeartbeatInterval"] = "00:00:01",
        });
        var channel = NewChannel("chat");
        await using var push = await PushClient.ConnectAsync(own.CreateClient(apiKey: null), Transport, [channel]);
        await push.ExpectAsync("subscribed");
        if (Transport == "sse")
        {
            Assert.Equal(2000, push.Retry);

            // SSE comments are not events, so the reader sees them only on its way to the next
            // event: stay idle for several intervals, then publish one.
            await Task.Delay(TimeSpan.FromSeconds(3));
            using var api = own.CreateClient();
            await PublishManyAsync(api, channel, 1, 1);
            await push.ExpectAsync("publication");
            Assert.Contains("heartbeat", push.Comments);
        }
        else
        {
            var heartbeat = await push.ReadAsync(includeHeartbeats: true);
            Assert.Equal("heartbeat", heartbeat?.Type);
        }
    }

    internal static async Task PublishManyAsync(HttpClient api, string channel, int first, int count)
    {
        for (var n = first; n < first + count; n++)
        {
            using var response = await api.PublishAsync(channel, "{\"data\":{\"n\":" + n.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}");
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"publish {n} answered {(int)response.StatusCode}");
        }
    }

    internal static string NewChannel(string ns) => $"{ns}:{Guid.NewGuid():N}";
}
