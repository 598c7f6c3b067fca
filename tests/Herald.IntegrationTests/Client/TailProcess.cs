using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Client;

/// <summary>A running <c>herald tail</c>: its stdout lines and stderr as they come.</summary>
internal sealed class TailProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> lines = [];
    private readonly StringBuilder errors = new();

    private TailProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (lines)
                lines.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (errors)
                errors.AppendLine(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string[] Lines
    {
        get
        {
            lock (lines)
                return [.. lines];
        }
    }

    public string Errors
    {
        get
        {
            lock (errors)
                return errors.ToString();
        }
    }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>The offsets of the publication lines printed so far (the one output format).</summary>
    public long[] Offsets => [.. Lines.Select(l => JsonDocument.Parse(l).RootElement).Where(IsPublication).Select(e => e.GetProperty("offset").GetInt64())];

    public static TailProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "herald.dll"));
        start.ArgumentList.Add("tail");
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return new TailProcess(Process.Start(start)!);
    }

    public Task WaitForLines(Func<string[], bool> condition, int seconds = 60) =>
        Clients.Until(() => condition(Lines), TimeSpan.FromSeconds(seconds), () => $"tail printed:\n{string.Join('\n', Lines)}\nstderr:\n{Errors}");

    public Task WaitForStatus(string text, int seconds = 60) =>
        Clients.Until(() => Errors.Contains(text, StringComparison.Ordinal), TimeSpan.FromSeconds(seconds), () => $"tail said:\n{Errors}");

    public async Task<int> WaitForExitAsync(int seconds = 60)
    {
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds));
        process.WaitForExit();
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        process.Dispose();
    }

    private static bool IsPublication(JsonElement line) =>
        line.ValueKind == JsonValueKind.Object && line.TryGetProperty("type", out var type) && type.GetString() == "publication";
}
