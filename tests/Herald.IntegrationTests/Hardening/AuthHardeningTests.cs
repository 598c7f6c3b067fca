using System.Net;
using System.Text;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Hardening;

/// <summary>API keys stay out of URLs; user tokens in ?token= stay allowed (EventSource cannot send headers).</summary>
public sealed class AuthHardeningTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("POST", "v1/channels/news:keys/messages")]
    [InlineData("GET", "v1/channels/news:keys/messages")]
    [InlineData("GET", "v1/poll?channel=news:keys&wait=0")]
    [InlineData("GET", "v1/sse?channel=news:keys")]
    [InlineData("GET", "v1/stream?channel=news:keys")]
    [InlineData("GET", "v1/stats")]
    [InlineData("GET", "v1/webhooks/subscriptions")]
    public async Task An_API_key_in_the_query_string_is_refused_with_403_saying_to_use_the_header(string method, string path)
    {
        using var anonymous = server.CreateClient(apiKey: null);
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{path}{separator}token={TestServer.ApiKey}");
        if (method == "POST")
            request.Content = new StringContent("""{"data":1}""", Encoding.UTF8, "application/json");
        using var response = await anonymous.SendAsync(request).WaitAsync(HttpJson.Timeout);
        var problem = await response.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("forbidden", problem.GetProperty("code").GetString());
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var client = server.CreateClient();
        Assert.Equal(0, (await client.HistoryAsync("news:keys")).GetProperty("top").GetInt64());
    }

    [Fact]
    public async Task An_API_key_in_the_query_string_of_a_WebSocket_upgrade_is_refused()
    {
        Assert.Equal(403, await WsClient.RefusedStatusAsync(server, "?token=" + TestServer.ApiKey));
    }

    [Fact]
    public async Task A_user_token_in_the_query_string_is_still_accepted()
    {
        await using var client = await WsClient.ConnectAsync(server, "?token=" + Tokens.Mint("alice"));
        using var anonymous = server.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync(new Uri("v1/poll?channel=news:keys&wait=0&token=" + Tokens.Mint("alice"), UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task With_AllowApiKeyInQuery_an_API_key_in_the_query_string_is_accepted()
    {
        await using var permissive = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Auth:AllowApiKeyInQuery"] = "true",
        });
        using var anonymous = permissive.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/news:keys/messages?token={TestServer.ApiKey}")
        {
            Content = new StringContent("""{"data":1}""", Encoding.UTF8, "application/json"),
        };
        using var response = await anonymous.SendAsync(request).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
