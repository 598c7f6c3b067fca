using System.Net;
using System.Text;

namespace Herald.IntegrationTests;

/// <summary>
/// CORS on the endpoints a page of another origin uses (publish, history, SSE, streaming, polling):
/// preflights and actual answers as a browser sees them, for the default (same origin only), a
/// listed origin, a refused one, <c>*</c>, and the WebSocket's list as the fallback.
/// </summary>
public sealed class CorsTests
{
    private const string App = "https://app.example";
    private const string Other = "http://other.example:8081";

    /// <summary>Each endpoint: its method, a path, and the request headers its client sends.</summary>
    public static TheoryData<string, string, string> Endpoints => new()
    {
        { "POST", "v1/channels/chat:cors/messages", "authorization,content-type,idempotency-key" },
        { "GET", "v1/channels/chat:cors/messages", "authorization,if-none-match" },
        { "GET", "v1/sse?channel=chat:cors", "authorization,last-event-id" },
        { "GET", "v1/stream?channel=chat:cors", "authorization,x-api-key" },
        { "GET", "v1/poll?channel=chat:cors&wait=0", "authorization,if-none-match" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task An_allowed_origin_gets_its_preflight_and_its_answers_on_every_endpoint(string method, string path, string headers)
    {
        await using var server = await Start(("Herald:Cors:AllowedOrigins:0", App + "/"));
        using var client = server.CreateClient(apiKey: null);

        using var preflight = await Preflight(client, path, App, method, headers);
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(App, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Contains(method, Header(preflight, "Access-Control-Allow-Methods").Split(','));
        var allowed = Header(preflight, "Access-Control-Allow-Headers").ToUpperInvariant().Split(',');
        Assert.All(headers.ToUpperInvariant().Split(','), h => Assert.Contains(h, allowed));
        Assert.Equal("600", Header(preflight, "Access-Control-Max-Age"));
        // Herald reads no cookies: credentials travel as Authorization or ?token=.
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Credentials"));

        using var actual = await Actual(client, method, path, App);
        Assert.True(actual.IsSuccessStatusCode, $"{method} {path} answered {(int)actual.StatusCode}");
        Assert.Equal(App, Header(actual, "Access-Control-Allow-Origin"));
        Assert.Equal(["ETag", "Retry-After", "Idempotent-Replayed"], Header(actual, "Access-Control-Expose-Headers").Split(','));
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task By_default_a_page_of_another_origin_is_refused_its_preflight_and_gets_no_cors_headers(string method, string path, string headers)
    {
        await using var server = await Start();
        using var client = server.CreateClient(apiKey: null);

        using var preflight = await Preflight(client, path, Other, method, headers);
        await AssertOriginRefused(preflight, Other);

        using var actual = await Actual(client, method, path, Other);
        Assert.True(actual.IsSuccessStatusCode, $"{method} {path} answered {(int)actual.StatusCode}");
        Assert.False(actual.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_origin_not_in_the_list_is_refused_while_the_listed_one_is_allowed()
    {
        await using var server = await Start(("Herald:Cors:AllowedOrigins:0", App), ("Herald:Cors:AllowedOrigins:1", "http://localhost:3000"));
        using var client = server.CreateClient(apiKey: null);

        using var refused = await Preflight(client, "v1/sse?channel=chat:cors", Other, "GET", "authorization");
        await AssertOriginRefused(refused, Other);
        using var allowed = await Preflight(client, "v1/sse?channel=chat:cors", "http://localhost:3000", "GET", "authorization");
        Assert.Equal("http://localhost:3000", Header(allowed, "Access-Control-Allow-Origin"));
        // A port is part of the origin.
        using var otherPort = await Preflight(client, "v1/sse?channel=chat:cors", "http://localhost:3001", "GET", "authorization");
        await AssertOriginRefused(otherPort, "http://localhost:3001");

        using var actual = await Actual(client, "GET", "v1/channels/chat:cors/messages", Other);
        Assert.Equal(HttpStatusCode.OK, actual.StatusCode);
        Assert.False(actual.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Star_allows_every_origin()
    {
        await using var server = await Start(("Herald:Cors:AllowedOrigins:0", "*"));
        using var client = server.CreateClient(apiKey: null);
        using var preflight = await Preflight(client, "v1/channels/chat:cors/messages", Other, "POST", "content-type");
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal("*", Header(preflight, "Access-Control-Allow-Origin"));
        using var actual = await Actual(client, "POST", "v1/channels/chat:cors/messages", "https://anywhere.example");
        Assert.Equal(HttpStatusCode.Created, actual.StatusCode);
        Assert.Equal("*", Header(actual, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Without_a_list_of_its_own_cors_allows_the_websocket_origins()
    {
        await using var server = await Start(("Herald:Transports:AllowedOrigins:0", App));
        using var client = server.CreateClient(apiKey: null);
        using var allowed = await Preflight(client, "v1/poll?channel=chat:cors", App, "GET", "authorization");
        Assert.Equal(App, Header(allowed, "Access-Control-Allow-Origin"));
        using var refused = await Preflight(client, "v1/poll?channel=chat:cors", Other, "GET", "authorization");
        await AssertOriginRefused(refused, Other);
    }

    [Theory]
    [InlineData("00:00:00", "0")]
    [InlineData("1.00:00:00", "86400")]
    public async Task The_preflight_max_age_is_configurable_to_its_bounds(string setting, string seconds)
    {
        await using var server = await Start(("Herald:Cors:AllowedOrigins:0", App), ("Herald:Cors:PreflightMaxAge", setting));
        using var client = server.CreateClient(apiKey: null);
        using var preflight = await Preflight(client, "v1/stream?channel=chat:cors", App, "GET", "authorization");
        Assert.Equal(seconds, Header(preflight, "Access-Control-Max-Age"));
    }

    [Fact]
    public async Task Other_endpoints_carry_no_cors()
    {
        await using var server = await Start(("Herald:Cors:AllowedOrigins:0", "*"));
        using var client = server.CreateClient(apiKey: null);
        using var preflight = await Preflight(client, "v1/webhooks/subscriptions", App, "POST", "authorization,content-type");
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
    }

    private static Task<TestServer> Start(params (string Key, string Value)[] settings) =>
        TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Namespaces:chat:Publish"] = "Anyone",
        }.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).ToDictionary());

    private static Task<HttpResponseMessage> Preflight(HttpClient client, string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", method);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", headers);
        return client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }

    /// <summary>The request the page then makes; push responses are read up to their headers only.</summary>
    private static Task<HttpResponseMessage> Actual(HttpClient client, string method, string path, string origin)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        if (method == "POST")
            request.Content = new StringContent("""{"data":{"text":"cors"}}""", Encoding.UTF8, "application/json");
        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(HttpJson.Timeout);
    }

    private static async Task AssertOriginRefused(HttpResponseMessage response, string origin)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("origin_not_allowed", problem.GetProperty("code").GetString());
        Assert.Contains(origin, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Herald:Cors:AllowedOrigins", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(',', values) : "";
}
