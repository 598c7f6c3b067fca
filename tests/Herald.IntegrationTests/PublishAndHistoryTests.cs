using System.Net;
using System.Net.Http.Headers;

namespace Herald.IntegrationTests;

public sealed class PublishAndHistoryTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Publish_returns_the_assigned_position_and_history_returns_the_message()
    {
        using var client = server.CreateClient();
        using var first = await client.PublishAsync("news:today", """{"data":{"text":"hello\nworld"},"type":"greeting"}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var position = await first.ReadJsonAsync();
        Assert.Equal(1, position.GetProperty("offset").GetInt64());
        Assert.Equal("news:today", position.GetProperty("channel").GetString());
        var epoch = position.GetProperty("epoch").GetString();
        Assert.False(string.IsNullOrEmpty(epoch));

        using var second = await client.PublishAsync("news:today", """{ "data" : [1, 2,   3] }""");
        Assert.Equal(2, (await second.ReadJsonAsync()).GetProperty("offset").GetInt64());

        var history = await client.HistoryAsync("news:today");
        Assert.Equal(epoch, history.GetProperty("epoch").GetString());
        Assert.Equal(2, history.GetProperty("top").GetInt64());
        var publications = history.GetProperty("publications").EnumerateArray().ToList();
        Assert.Equal(2, publications.Count);
        Assert.Equal("hello\nworld", publications[0].GetProperty("data").GetProperty("text").GetString());
        Assert.Equal("publication", publications[0].GetProperty("type").GetString());
        Assert.Equal("greeting", publications[0].GetProperty("msgType").GetString());
        Assert.Equal("[1,2,3]", publications[1].GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task History_reads_windows_after_an_offset_with_a_limit_and_in_reverse()
    {
        using var client = server.CreateClient();
        for (var i = 1; i <= 10; i++)
            (await client.PublishAsync("news:window", $$"""{"data":{{i}}}""")).Dispose();

        var window = await client.HistoryAsync("news:window", "?after=3&limit=4");
        Assert.Equal([4L, 5, 6, 7], Offsets(window));

        var newest = await client.HistoryAsync("news:window", "?reverse=true&limit=3");
        Assert.Equal([10L, 9, 8], Offsets(newest));

        var past = await client.HistoryAsync("news:window", "?after=10");
        Assert.Empty(Offsets(past));
    }

    [Fact]
    public async Task Short_polling_with_the_ETag_answers_304_until_something_new_arrives()
    {
        using var client = server.CreateClient();
        (await client.PublishAsync("news:poll", """{"data":1}""")).Dispose();

        using var full = await client.GetAsync(new Uri("v1/channels/news:poll/messages", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        var etag = full.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var notModified = await GetWithETagAsync(client, etag);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        (await client.PublishAsync("news:poll", """{"data":2}""")).Dispose();
        using var changed = await GetWithETagAsync(client, etag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);
    }

    [Fact]
    public async Task A_retried_publish_with_the_same_Idempotency_Key_is_stored_once()
    {
        using var client = server.CreateClient();
        using var first = await client.PublishAsync("news:idem", """{"data":"once"}""", idempotencyKey: "order-42");
        using var retry = await client.PublishAsync("news:idem", """{"data":"once"}""", idempotencyKey: "order-42");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal((await first.ReadJsonAsync()).GetProperty("id").GetString(), (await retry.ReadJsonAsync()).GetProperty("id").GetString());

        using var other = await client.PublishAsync("news:idem", """{"data":"twice"}""", idempotencyKey: "order-43");
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.Equal([1L, 2], Offsets(await client.HistoryAsync("news:idem")));
    }

    [Fact]
    public async Task Health_readiness_and_the_OpenAPI_document_answer()
    {
        using var client = server.CreateClient(apiKey: null);
        using var health = await client.GetAsync(new Uri("healthz", UriKind.Relative));
        using var ready = await client.GetAsync(new Uri("readyz", UriKind.Relative));
        using var openApi = await client.GetAsync(new Uri("openapi/v1.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        Assert.Contains("/v1/channels/{channel}/messages", await openApi.Content.ReadAsStringAsync());
    }

    private static List<long> Offsets(System.Text.Json.JsonElement history) =>
        [.. history.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetInt64())];

    private static Task<HttpResponseMessage> GetWithETagAsync(HttpClient client, EntityTagHeaderValue etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "v1/channels/news:poll/messages");
        request.Headers.IfNoneMatch.Add(etag);
        return client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }
}
