using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Herald.Chaos.SignalR;

/// <summary>
/// One real <c>SignalRPeer --redis</c> process (bench/peers/SignalRPeer, copied beside this tool by
/// its project reference, as herald.dll is) on a fixed loopback port, killable with SIGKILL and
/// restartable on the same port — the counterpart of <c>HeraldNode</c>.
/// </summary>
internal sealed class SignalRNode : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(90);

    private readonly string _redisConfiguration;
    private readonly string? _logFile;
    private readonly Lock _logLock = new();
    private Process? _process;

    /// <param name="logDirectory">When set, the node's output is appended to <c>signalr-node-{index}.log</c> there.</param>
    public SignalRNode(int index, string redisConfiguration, string? logDirectory)
    {
        Index = index;
        Port = FreePort();
        _redisConfiguration = redisConfiguration;
        _logFile = logDirectory is null ? null : Path.Combine(logDirectory, $"signalr-node-{index}.log");
    }

    public int Index { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public async Task StartAsync()
    {
        var peer = Path.Combine(AppContext.BaseDirectory, "SignalRPeer.dll");
        if (!File.Exists(peer))
            throw new FileNotFoundException("SignalRPeer.dll is not beside Herald.Chaos: build bench/Herald.Chaos (it references bench/peers/SignalRPeer).", peer);
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[peer, "--urls", $"http://127.0.0.1:{Port}", "--redis", _redisConfiguration, "--Logging:LogLevel:Default=Warning"])
            info.ArgumentList.Add(argument);
        info.Environment["DOTNET_gcServer"] = "0";
        _process = Process.Start(info) ?? throw new InvalidOperationException("SignalRPeer did not start");
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
                using var ready = await http.GetAsync("healthz");
                if (ready.IsSuccessStatusCode)
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (_process.HasExited)
                throw new InvalidOperationException($"SignalR node {Index} exited with {_process.ExitCode} at start.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"SignalR node {Index} was not ready within {s_startTimeout}.");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: nothing of the node's shutdown runs; its connections drop and its Redis subscriptions with them.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
