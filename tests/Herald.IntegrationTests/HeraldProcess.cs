using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Herald.IntegrationTests;

/// <summary>The real <c>herald</c> executable in its own process, for tests that kill it.</summary>
public sealed partial class HeraldProcess : IAsyncDisposable
{
    private readonly Process process;

    private readonly System.Text.StringBuilder output;

    private HeraldProcess(Process process, Uri baseAddress, System.Text.StringBuilder output)
    {
        this.process = process;
        this.output = output;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<HeraldProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var herald = Path.Combine(AppContext.BaseDirectory, "herald.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[herald, "serve", "--urls", "http://127.0.0.1:0", "--data", dataDirectory, .. extraArgs])
            start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            var match = ListeningLine().Match(e.Data);
            if (match.Success)
                listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"herald exited early: {output}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return new HeraldProcess(process, address, output);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a node, then waits for the process to exit by itself.
    /// Returns its exit code and how long it took from the signal.
    /// </summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, started.Elapsed);
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
            await KillAsync();
        process.Dispose();
    }

    [GeneratedRegex(@"Herald listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
