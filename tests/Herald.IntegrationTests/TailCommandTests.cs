using System.Diagnostics;
using System.Text;

namespace Herald.IntegrationTests;

/// <summary>`herald tail` prints what arrives, on each of the five transports.</summary>
public sealed class TailCommandTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData("ws")]
    [InlineData("sse")]
    [InlineData("stream")]
    [InlineData("longpoll")]
    [InlineData("poll")]
    public async Task Tail_prints_publications_as_they_arrive(string transport)
    {
        var channel = $"news:tail-{transport}";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "herald.dll"), "tail", channel, "--transport", transport,
                     "--server", server.BaseAddress.ToString(), "--api-key", TestServer.ApiKey, "--interval", "0.2"])
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            if (e.Data.Contains("tail-marker-2", StringComparison.Ordinal))
                seen.TrySetResult();
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = server.CreateClient();
            // Publish until the tail shows the marker: it subscribes from "now", so the first
            // publications may precede its subscription.
            for (var i = 0; i < 600 && !seen.Task.IsCompleted; i++)
            {
                (await client.PublishAsync(channel, $$"""{"data":"tail-marker-{{Math.Min(i, 2)}}"}""")).Dispose();
                await Task.WhenAny(seen.Task, Task.Delay(100));
            }

            await seen.Task.WaitAsync(TimeSpan.FromSeconds(60));
            lock (output)
                Assert.Contains("\"offset\"", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
