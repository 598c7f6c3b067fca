using System.Diagnostics;

namespace Herald.Testing.Cluster;

/// <summary>
/// One server process of a test cluster (<c>dotnet some.dll …</c>) on a fixed loopback port, its
/// output appended to a log file when asked: started until a readiness path answers 2xx, killable
/// with SIGKILL and restartable on the same port. <see cref="HeraldNode"/> and the SignalR peer's
/// node are this with their own command lines.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(90);

    private readonly string _name;
    private readonly string? _logFile;
    private readonly Lock _logLock = new();
    private Process? _process;

    /// <param name="name">What the node is called in errors (<c>herald node 2</c>).</param>
    /// <param name="logFile">When set, the process's output is appended to it.</param>
    public NodeProcess(string name, string? logFile)
    {
        _name = name;
        _logFile = logFile;
        Port = RedisServer.FreePort();
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts <c>dotnet <paramref name="dll"/> <paramref name="arguments"/></c> and waits until <paramref name="readyPath"/> answers 2xx.</summary>
    public async Task StartAsync(string dll, IEnumerable<string> arguments, string readyPath)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        info.Environment["DOTNET_gcServer"] = "0";
        _process?.Dispose();
        _process = Process.Start(info) ?? throw new InvalidOperationException($"{_name} did not start");
        DataReceivedEventHandler output = (_, e) =>
        {
            if (_logFile is not null && e.Data is not null)
            {
                lock (_logLock)
                    File.AppendAllText(_logFile, e.Data + "\n");
            }
        };
        _process.OutputDataReceived += output;
        _process.ErrorDataReceived += output;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            try
            {
                using var ready = await http.GetAsync(readyPath);
                if (ready.IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (_process.HasExited)
                throw new InvalidOperationException($"{_name} exited with {_process.ExitCode} at start.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{_name} was not ready within {s_startTimeout}.");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: nothing of the process's shutdown runs; its connections drop.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        _process = null;
    }
}
