using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Herald.IntegrationTests;

/// <summary>The real <c>herald</c> executable in its own process, for tests that kill it.</summary>
public sealed partial class HeraldProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly System.Text.StringBuilder output;
    private readonly System.Text.StringBuilder standardOutput;

    private HeraldProcess(Process process, Uri baseAddress, System.Text.StringBuilder output, System.Text.StringBuilder standardOutput)
    {
        this.process = process;
        this.output = output;
        this.standardOutput = standardOutput;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => process.HasExited;

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    /// <summary>Starts with the process's open-file limit (soft and hard) set to <paramref name="nofile"/>, applied with util-linux's <c>prlimit</c>.</summary>
    public static Task<HeraldProcess> StartWithOpenFileLimitAsync(string dataDirectory, int nofile, params string[] extraArgs)
    {
        // prlimit execs dotnet in its own process, so the pid (and Kill) stay the server's.
        var start = new ProcessStartInfo("prlimit");
        foreach (var arg in (string[])[$"--nofile={nofile}:{nofile}", "dotnet", Path.Combine(AppContext.BaseDirectory, "herald.dll"), "serve", "--urls", "http://127.0.0.1:0", "--data", dataDirectory, .. extraArgs])
            start.ArgumentList.Add(arg);
        return StartAsync(start);
    }

    /// <summary>What the process wrote to stdout alone.</summary>
    public string StandardOutput
    {
        get
        {
            lock (output)
                return standardOutput.ToString();
        }
    }

    public static Task<HeraldProcess> StartAsync(string dataDirectory, params string[] extraArgs) => StartAsync(dataDirectory, 0, extraArgs);

    /// <summary>Starts on <paramref name="port"/> (0: any), so a restarted server keeps its address.</summary>
    public static Task<HeraldProcess> StartAsync(string dataDirectory, int port, params string[] extraArgs)
    {
        var start = new ProcessStartInfo("dotnet");
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "herald.dll"), "serve", "--urls", $"http://127.0.0.1:{port}", "--data", dataDirectory, .. extraArgs])
            start.ArgumentList.Add(arg);
        return StartAsync(start);
    }

    /// <summary>Starts <paramref name="start"/> (a <c>herald serve</c> on 127.0.0.1:0, however launched) and waits for its listening line.</summary>
    public static async Task<HeraldProcess> StartAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Text.StringBuilder();
        var standardOutput = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
            {
                output.AppendLine(e.Data);
                standardOutput.AppendLine(e.Data);
            }

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
            return new HeraldProcess(process, address, output, standardOutput);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>Waits until <paramref name="text"/> appears in the output (a log line written after the listening one).</summary>
    public async Task WaitForOutputAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (timeout.IsCancellationRequested)
                throw new TimeoutException($"'{text}' did not appear in herald's output within 30 s:\n{Output}");
            await Task.Delay(50);
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

    [GeneratedRegex(@"Herald listening on (https?://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
