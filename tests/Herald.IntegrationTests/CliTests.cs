using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Herald.IntegrationTests;

/// <summary>The `herald` executable as a person uses it: serve generates its secrets, the CLI finds them.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Serve_generates_an_API_key_that_publish_and_history_find_and_token_mints_a_user_token()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--Herald:Namespaces:chat:Publish=Authenticated");
            var keyFile = Path.Combine(data, "api-key");
            Assert.True(File.Exists(keyFile));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

            var url = server.BaseAddress.ToString();
            var publish = await RunCliAsync("publish", "news:cli", """{"text":"from the CLI"}""", "--server", url, "--data", data);
            Assert.True(publish.ExitCode == 0, publish.Error);
            Assert.Contains("\"offset\":1", publish.Output, StringComparison.Ordinal);

            var history = await RunCliAsync("history", "news:cli", "--server", url, "--data", data);
            Assert.True(history.ExitCode == 0, history.Error);
            Assert.Contains("from the CLI", history.Output, StringComparison.Ordinal);

            var refused = await RunCliAsync("publish", "news:cli", """{"x":1}""", "--server", url, "--api-key", "wrong");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("forbidden", refused.Error, StringComparison.Ordinal);

            var token = await RunCliAsync("token", "--sub", "alice", "--data", data);
            Assert.True(token.ExitCode == 0, token.Error);
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = HttpJson.Timeout };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Output.Trim());
            using var response = await client.PublishAsync("chat:room", """{"data":"hi"}""");
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var stored = await client.HistoryAsync("chat:room");
            Assert.Equal("alice", stored.GetProperty("publications")[0].GetProperty("from").GetString());
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    internal static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "herald.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // A command that did not end (a server that started when it should not have) must not outlive the test.
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
