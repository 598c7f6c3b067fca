using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.IntegrationTests.Metrics;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_an_OTLP_endpoint_the_Herald_meter_is_pushed_to_the_collector()
    {
        // A stand-in collector: it records what arrives at the OTLP/HTTP metrics path.
        var received = new ConcurrentQueue<(string? ContentType, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.ContentType, body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync().WaitAsync(HttpJson.Timeout);
        var endpoint = collector.Urls.First() + "/v1/metrics";

        await using var server = await TestServer.StartAsync("memory", new Dictionary<string, string?>
        {
            ["Herald:Metrics:Otlp:Endpoint"] = endpoint,
            ["Herald:Metrics:Otlp:Protocol"] = "http/protobuf",
            ["Herald:Metrics:Otlp:Interval"] = "00:00:01",
        });

        // Protobuf carries instrument names as plain UTF-8.
        var deadline = DateTime.UtcNow + HttpJson.Timeout;
        while (!received.Any(r => Encoding.UTF8.GetString(r.Body).Contains("herald.connections", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no export with herald.connections in {received.Count} requests");
            await Task.Delay(100);
        }

        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        await collector.StopAsync().WaitAsync(HttpJson.Timeout);
    }
}
