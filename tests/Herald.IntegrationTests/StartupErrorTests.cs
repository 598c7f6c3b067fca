using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.IntegrationTests;

/// <summary>
/// `herald serve` with settings it cannot run with, as a person meets it: every problem at once,
/// one line each naming the key and the value, printed once, no stack trace, a non-zero exit.
/// </summary>
public sealed class StartupErrorTests
{
    private const int InvalidSettings = 78;

    [Fact]
    public async Task A_value_of_the_wrong_type_is_one_line_naming_the_key_and_the_value()
    {
        var run = await ServeAsync("--Herald:Stats:Interval=banana");

        Assert.Equal(InvalidSettings, run.ExitCode);
        var line = Assert.Single(Lines(run.All), l => l.Contains("Herald:Stats:Interval", StringComparison.Ordinal));
        Assert.Contains("'banana'", line, StringComparison.Ordinal);
        Assert.Contains("time span", line, StringComparison.Ordinal);
        AssertNoStackTrace(run.All);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task A_misspelled_key_under_Herald_stops_the_start_and_names_the_key_it_resembles()
    {
        var run = await ServeAsync("--Herald:Stats:Intervall=00:00:05");

        Assert.Equal(InvalidSettings, run.ExitCode);
        var line = Assert.Single(Lines(run.Error), l => l.Contains("Herald:Stats:Intervall", StringComparison.Ordinal));
        Assert.Contains("unknown setting", line, StringComparison.Ordinal);
        Assert.Contains("did you mean Herald:Stats:Interval?", line, StringComparison.Ordinal);
        AssertNoStackTrace(run.All);
    }

    [Fact]
    public async Task Every_problem_is_reported_at_once_type_errors_unknown_keys_and_validation_from_every_source()
    {
        var work = TempDirectory.Create();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work, "appsettings.json"), """{ "Herald": { "Transports": { "MaxPollWaitSecond": 30 } } }""");
            var run = await ServeAsync(
                work,
                new Dictionary<string, string> { ["HERALD__NAMESPACES__chat__PUBLISH"] = "Everyone" },
                "--Herald:Stats:Interval=banana",     // type error
                "--Herald:MaxHistoryLimit=0",         // the core's validation
                "--Herald:Sqlite:MaxBatchSize=0",     // the engine's own section and validation
                "--Herald:Stats:TopChannels=ten");    // a second type error

            Assert.Equal(InvalidSettings, run.ExitCode);
            string[] expected =
            [
                "Herald:Stats:Interval = 'banana' (on the command line)",
                "Herald:Stats:TopChannels = 'ten' (on the command line): expected a whole number",
                "Herald:MaxHistoryLimit must be at least 1",
                "Herald:Sqlite:MaxBatchSize must be from 1 to 65536",
                "Herald:Namespaces:chat:Publish = 'Everyone' (from the environment): expected one of ServerOnly, Authenticated, Anyone",
                $"Herald:Transports:MaxPollWaitSecond: unknown setting (in {Path.Combine(work, "appsettings.json")}); did you mean Herald:Transports:MaxPollWaitSeconds?",
            ];
            var lines = Lines(run.Error);
            foreach (var problem in expected)
                Assert.Single(lines, l => l.Contains(problem, StringComparison.OrdinalIgnoreCase)); // the environment keeps its variables' case
            Assert.Contains("herald: 6 problems; the server did not start.", lines);
            AssertNoStackTrace(run.All);
        }
        finally
        {
            TempDirectory.Delete(work);
        }
    }

    [Fact]
    public async Task The_sqlite_engines_settings_are_known_when_the_memory_store_runs()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--store", "memory", "--Herald:Sqlite:Synchronous=Full");
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = HttpJson.Timeout };
            using var response = await client.GetAsync(new Uri("v1/channels/news:x/messages", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_without_a_stack_trace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await ServeAsync("--urls", $"http://127.0.0.1:{port}", "--store", "memory");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.All), l => l.Contains($"127.0.0.1:{port}", StringComparison.Ordinal));
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
        AssertNoStackTrace(run.All);
    }

    private static Task<Run> ServeAsync(params string[] args) => ServeAsync(workingDirectory: null, environment: null, args);

    /// <summary>Runs <c>herald serve</c> to its end (it must not start: a started server fails the test after 60 s).</summary>
    private static async Task<Run> ServeAsync(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var data = TempDirectory.Create();
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? data,
            };
            foreach (var (name, value) in environment ?? new Dictionary<string, string>())
                start.Environment[name] = value;
            string[] defaults = ["--urls", "http://127.0.0.1:0", "--data", data];
            foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "herald.dll"), "serve", .. args.Contains("--urls") ? ["--data", data] : defaults, .. args])
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
                process.Kill(entireProcessTree: true);
                throw;
            }

            // Refused settings are refused before anything is written.
            if (process.ExitCode == InvalidSettings)
                Assert.False(File.Exists(Path.Combine(data, "api-key")), "serve wrote its data directory despite invalid settings");
            return new Run(process.ExitCode, await output, await error);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void AssertNoStackTrace(string text)
    {
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }
}
