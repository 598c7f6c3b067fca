using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Herald.IntegrationTests.Shutdown;

public sealed class DrainTests
{
    [Fact]
    public async Task Readiness_answers_503_unavailable_as_soon_as_the_node_starts_stopping()
    {
        await using var server = await TestServer.StartAsync("memory");
        using var client = server.CreateClient();
        using (var ready = await client.GetAsync(new Uri("readyz", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        using var draining = await client.GetAsync(new Uri("readyz", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
        Assert.Equal("unavailable", (await draining.ReadJsonAsync()).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData(null, 15)]
    [InlineData("00:00:42", 42)]
    public async Task The_host_drains_for_Herald_ShutdownTimeout(string? setting, int seconds)
    {
        var settings = new Dictionary<string, string?>();
        if (setting is not null)
            settings["Herald:ShutdownTimeout"] = setting;
        await using var server = await TestServer.StartAsync("memory", settings);
        Assert.Equal(TimeSpan.FromSeconds(seconds), server.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
