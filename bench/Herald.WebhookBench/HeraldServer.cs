using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Herald.WebhookBench;

/// <summary>A real <c>herald serve</c> in a child process (optionally pinned with taskset), SQLite in a fresh directory.</summary>
internal sealed partial class HeraldServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string data;

    private HeraldServer(Process process, string data, Uri address)
    {
        this.process = process;
        this.data = data;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<HeraldServer> StartAsync(string heraldDll, string apiKey, string? cpu, IEnumerable<string> settings)
    {
        var data = Path.Combine(Path.GetTempPath(), "herald-webhook-bench-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(cpu is null ? "dotnet" : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cpu is not null)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpu);
            start.ArgumentList.Add("dotnet");
        }

        foreach (var arg in (string[])[heraldDll, "serve", "--urls", "http://127.0.0.1:0", "--data", data, "--Herald:ApiKeys:0=" + apiKey, "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Herald=Information", .. settings])
            start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("herald did not start");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ListeningLine().Match(e.Data) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                Console.Error.WriteLine("herald: " + e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new HeraldServer(process, data, await listening.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>CPU time the server used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            // With taskset the child is taskset's exec'd dotnet: the same process.
            return process.TotalProcessorTime;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"Herald listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
