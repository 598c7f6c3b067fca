using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.Testing.Cluster;

/// <summary>One real <c>herald serve --store redis</c> process on a fixed loopback port, killable with SIGKILL and restartable on the same port.</summary>
public sealed class HeraldNode : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(90);

    private readonly string _dataDirectory;
    private readonly string[] _settings;
    private readonly string? _logFile;
    private Process? _process;

    /// <param name="logDirectory">When set, the node's output is appended to <c>node-{index}.log</c> there.</param>
    public HeraldNode(int index, string redisConfiguration, string? logDirectory, IEnumerable<string> settings)
    {
        _logFile = logDirectory is null ? null : Path.Combine(logDirectory, $"node-{index}.log");
        Index = index;
        Port = FreePort();
        _dataDirectory = Path.Combine(Path.GetTempPath(), "herald-chaos", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);
        _settings = ["--store", "redis", "--redis", redisConfiguration, .. settings];
    }

    public int Index { get; }

    public int Port { get; }

    public bool IsRunning => _process is { HasExited: false };

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public async Task StartAsync()
    {
        var herald = Path.Combine(AppContext.BaseDirectory, "herald.dll");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[herald, "serve", "--urls", $"http://127.0.0.1:{Port}", "--data", _dataDirectory, .. _settings])
            info.ArgumentList.Add(argument);
        info.Environment["DOTNET_gcServer"] = "0";
        _process = Process.Start(info) ?? throw new InvalidOperationException("herald did not start");
        DataReceivedEventHandler output = (_, e) =>
        {
            if (_logFile is not null && e.Data is not null)
            {
                lock (_settings)
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
                using var ready = await http.GetAsync("readyz");
                if (ready.IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (_process.HasExited)
                throw new InvalidOperationException($"herald node {Index} exited with {_process.ExitCode} at start.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"herald node {Index} was not ready within {s_startTimeout}.");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: nothing of the node's shutdown runs.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
