using System.Net;

namespace Herald.IntegrationTests;

/// <summary>Every bad request gets a clear 4xx problem document, and nothing is stored.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const string Channel = "news:guarded";

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Herald:Namespaces:small:MaxMessageBytes"] = "64",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("nonamespace")]
    [InlineData("UPPER:case")]
    [InlineData("news:")]
    [InlineData("news:has%20space")]
    [InlineData("news:semi;colon")]
    public async Task An_invalid_channel_name_is_refused(string channel)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync(channel, """{"data":1}""");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_channel");
    }

    [Fact]
    public async Task A_channel_name_over_the_maximum_length_is_refused_and_the_maximum_is_accepted()
    {
        using var client = server.CreateClient();
        var longest = "news:" + new string('a', Channels.ChannelName.MaxLength - 5);
        using var ok = await client.PublishAsync(longest, """{"data":1}""");
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using var tooLong = await client.PublishAsync(longest + "a", """{"data":1}""");
        await AssertProblemAsync(tooLong, HttpStatusCode.BadRequest, "invalid_channel");
    }

    [Theory]
    [InlineData("""{"text":"no data member"}""")]
    [InlineData("""{"data":1,"extra":2}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"data":1""")]
    [InlineData("""{"data":1}{"data":2}""")]
    [InlineData("""{"data":1,"type":5}""")]
    [InlineData("")]
    public async Task An_unknown_JSON_shape_is_refused(string body)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync(Channel, body);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_body");
        await AssertNothingStoredAsync(client, Channel);
    }

    [Fact]
    public async Task A_body_over_the_namespace_limit_is_refused_with_413_and_the_limit_itself_is_accepted()
    {
        using var client = server.CreateClient();
        var exactly64 = "{\"data\":\"" + new string('x', 64 - 11) + "\"}";
        Assert.Equal(64, exactly64.Length);
        using var ok = await client.PublishAsync("small:one", exactly64);
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);

        using var tooBig = await client.PublishAsync("small:two", exactly64.Replace("xx", "xxx", StringComparison.Ordinal));
        await AssertProblemAsync(tooBig, HttpStatusCode.RequestEntityTooLarge, "message_too_large");
        await AssertNothingStoredAsync(client, "small:two");
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_refused_with_413()
    {
        using var client = server.CreateClient();
        var body = "{\"data\":\"" + new string('x', 200) + "\"}";
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/channels/small:chunked/messages")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "message_too_large");
        await AssertNothingStoredAsync(client, "small:chunked");
    }

    [Fact]
    public async Task A_missing_API_key_is_401_and_a_wrong_one_is_403()
    {
        using var anonymous = server.CreateClient(apiKey: null);
        using var missing = await anonymous.PublishAsync(Channel, """{"data":1}""");
        await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, "unauthorized");

        using var wrong = server.CreateClient(apiKey: "not-the-key");
        using var refused = await wrong.PublishAsync(Channel, """{"data":1}""");
        await AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");

        using var viaHeader = server.CreateClient(apiKey: null);
        viaHeader.DefaultRequestHeaders.Add("X-Api-Key", TestServer.ApiKey);
        using var accepted = await viaHeader.PublishAsync("news:header", """{"data":1}""");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);

        using var client = server.CreateClient();
        await AssertNothingStoredAsync(client, Channel);
    }

    [Theory]
    [InlineData("?after=-1")]
    [InlineData("?after=abc")]
    [InlineData("?after=1.5")]
    [InlineData("?limit=0")]
    [InlineData("?limit=1001")]
    [InlineData("?limit=ten")]
    [InlineData("?reverse=maybe")]
    public async Task Malformed_history_parameters_are_refused(string query)
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync(new Uri($"v1/channels/{Channel}/messages{query}", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_query");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=latin1")]
    public async Task A_body_that_is_not_JSON_is_refused_with_415(string contentType)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync(Channel, """{"data":1}""", contentType);
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await AssertNothingStoredAsync(client, Channel);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public async Task A_malformed_Idempotency_Key_is_refused(string key)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync(Channel, """{"data":1}""", idempotencyKey: key);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_header");
        await AssertNothingStoredAsync(client, Channel);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    private static async Task AssertNothingStoredAsync(HttpClient client, string channel)
    {
        var history = await client.HistoryAsync(channel);
        Assert.Equal(0, history.GetProperty("top").GetInt64());
    }
}
