using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Herald.IntegrationTests;

/// <summary>What `herald serve` writes: timestamped logs, JSON that a pipeline can read line by line, and the generated API key only ever on a terminal.</summary>
public sealed partial class LoggingTests
{
    [Fact]
    public async Task The_generated_API_key_never_reaches_redirected_output_which_names_the_key_file()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--store", "memory");
            var keyFile = Path.Combine(data, "api-key");
            await server.WaitForOutputAsync(keyFile);

            var key = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.StartsWith("hk_", key, StringComparison.Ordinal);
            Assert.DoesNotContain(key, server.Output, StringComparison.Ordinal);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task At_a_terminal_the_generated_API_key_is_shown_once()
    {
        var data = TempDirectory.Create();
        try
        {
            // script(1) runs serve on a pseudo-terminal, as a person's shell would.
            var serve = $"exec dotnet {Path.Combine(AppContext.BaseDirectory, "herald.dll")} serve --urls http://127.0.0.1:0 --data {data} --store memory";
            var start = new ProcessStartInfo("script");
            foreach (var arg in (string[])["-q", "-e", "-c", serve, "/dev/null"])
                start.ArgumentList.Add(arg);
            await using var server = await HeraldProcess.StartAsync(start);
            await server.WaitForOutputAsync("API key (shown only this once");

            var key = (await File.ReadAllTextAsync(Path.Combine(data, "api-key"))).Trim();
            Assert.Single(Regex.Matches(server.Output, Regex.Escape(key)));
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task Console_log_entries_start_with_an_ISO_8601_UTC_timestamp()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--store", "memory");
            await server.WaitForOutputAsync("api-key");

            // The first line of each entry; the message follows on indented lines.
            var entries = server.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(' ')).ToList();
            Assert.NotEmpty(entries);
            foreach (var entry in entries)
            {
                var match = SimpleEntry().Match(entry);
                Assert.True(match.Success, $"no timestamp: {entry}");
                AssertRecentUtc(match.Groups[1].Value);
            }
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task With_JSON_logs_every_stdout_line_is_a_JSON_object_with_a_UTC_timestamp_and_none_holds_the_key()
    {
        var data = TempDirectory.Create();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--store", "memory", "--Logging:Console:FormatterName=json");
            await server.WaitForOutputAsync("api-key");
            var key = (await File.ReadAllTextAsync(Path.Combine(data, "api-key"))).Trim();

            var lines = AssertJsonLines(server.StandardOutput);
            foreach (var line in lines)
                Assert.DoesNotContain(key, line, StringComparison.Ordinal);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task Dotnet_run_serve_with_JSON_logs_writes_nothing_but_JSON_lines_to_stdout()
    {
        var data = TempDirectory.Create();
        try
        {
            // The README's `dotnet run --project src/Herald.Server -- serve`, on the build this test
            // runs against (--no-build): whatever dotnet run itself prints lands here too.
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = data };
            start.Environment["DOTNET_NOLOGO"] = "1";
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            string[] args =
            [
                "run", "--no-build", "-c", BuildConfiguration, "--project", Path.Combine(RepositoryRoot(), "src", "Herald.Server"),
                "--", "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--store", "memory", "--Logging:Console:FormatterName=json",
            ];
            foreach (var arg in args)
                start.ArgumentList.Add(arg);
            await using var server = await HeraldProcess.StartAsync(start);
            await server.WaitForOutputAsync("api-key");

            AssertJsonLines(server.StandardOutput);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private static List<string> AssertJsonLines(string standardOutput)
    {
        var lines = standardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"stdout line is not JSON ({e.Message}): {line}");
            }

            using (document)
                AssertRecentUtc(document.RootElement.GetProperty("Timestamp").GetString()!);
        }

        return lines;
    }

    private static void AssertRecentUtc(string timestamp)
    {
        Assert.Matches(IsoUtc(), timestamp);
        var time = DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(time, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Herald.slnx")))
                return directory.FullName;
        }

        throw new InvalidOperationException($"no Herald.slnx above {AppContext.BaseDirectory}");
    }

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
    private static partial Regex IsoUtc();

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex SimpleEntry();
}
