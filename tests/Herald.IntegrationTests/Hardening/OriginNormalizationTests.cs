using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Hardening;

/// <summary>Allow-list entries and the browser's Origin are compared as RFC 6454 origins: scheme, host case and default ports normalized.</summary>
public sealed class OriginNormalizationTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Transports:AllowedOrigins:0"] = "https://A.Example:443",
        ["Herald:Transports:AllowedOrigins:1"] = "http://b.example:80/",
        ["Herald:Transports:AllowedOrigins:2"] = "https://c.example:8443",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("https://a.example")]
    [InlineData("https://a.example:443")]
    [InlineData("HTTPS://A.EXAMPLE")]
    [InlineData("http://b.example")]
    [InlineData("http://B.example:80")]
    [InlineData("https://c.example:8443")]
    public async Task An_origin_equal_to_a_listed_one_after_normalization_is_allowed(string origin)
    {
        await using var client = await WsClient.ConnectAsync(server, origin: origin);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, client.State);
    }

    [Theory]
    [InlineData("http://a.example")]
    [InlineData("https://a.example:8443")]
    [InlineData("https://b.example")]
    [InlineData("https://c.example")]
    [InlineData("https://a.example.evil")]
    [InlineData("null")]
    public async Task Another_scheme_port_or_host_is_refused(string origin)
    {
        Assert.Equal(403, await WsClient.RefusedStatusAsync(server, origin: origin));
    }

    [Theory]
    [InlineData("https://a.example/app")]
    [InlineData("a.example")]
    [InlineData("ftp://a.example")]
    public async Task An_allow_list_entry_that_is_not_an_origin_stops_the_start(string entry)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:AllowedOrigins:0"] = entry,
        }));
        Assert.Contains("Herald:Transports:AllowedOrigins", error.Message, StringComparison.Ordinal);
    }
}
