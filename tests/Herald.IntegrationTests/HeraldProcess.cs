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

    public bool HasExited => process.HasExited;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    public static Task<HeraldProcess> StartAsync(string dataDirectory, params string[] extraArgs) => StartAsync(dataDirectory, nofile: null, extraArgs);

    /// <param name="dataDirectory">The server's data directory.</param>
    /// <param name="nofile">When set, the process's open-file limit (soft and hard), applied with util-linux's <c>prlimit</c>.</param>
    /// <param name="extraArgs">More arguments to <c>serve</c>.</param>
    public static async Task<HeraldProcess> StartAsync(string dataDirectory, int? nofile, params string[] extraArgs)
    {
        var herald = Path.Combine(AppContext.BaseDirectory, "herald.dll");
        var start = new ProcessStartInfo(nofile is null ? "dotnet" : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (nofile is { } limit)
        {
            // prlimit execs dotnet in its own process, so the pid (and Kill) stay the server's.
            start.ArgumentList.Add($"--nofile={limit}:{limit}");
            start.ArgumentList.Add("dotnet");
        }

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
