using Herald.Testing.Cluster;

namespace Herald.Chaos.SignalR;

/// <summary>
/// One real <c>SignalRPeer --redis</c> process (bench/peers/SignalRPeer, copied beside this tool by
/// its project reference, as herald.dll is) on a fixed loopback port, killable with SIGKILL and
/// restartable on the same port — the counterpart of <see cref="HeraldNode"/>, on the same <see cref="NodeProcess"/>.
/// </summary>
internal sealed class SignalRNode : IAsyncDisposable
{
    private readonly NodeProcess _process;
    private readonly string _redisConfiguration;

    /// <param name="logDirectory">When set, the node's output is appended to <c>signalr-node-{index}.log</c> there.</param>
    public SignalRNode(int index, string redisConfiguration, string? logDirectory)
    {
        Index = index;
        _process = new NodeProcess($"SignalR node {index}", logDirectory is null ? null : Path.Combine(logDirectory, $"signalr-node-{index}.log"));
        _redisConfiguration = redisConfiguration;
    }

    public int Index { get; }

    public int Port => _process.Port;

    public Uri BaseAddress => _process.BaseAddress;

    public Task StartAsync()
    {
        var peer = Path.Combine(AppContext.BaseDirectory, "SignalRPeer.dll");
        if (!File.Exists(peer))
            throw new FileNotFoundException("SignalRPeer.dll is not beside Herald.Chaos: build bench/Herald.Chaos (it references bench/peers/SignalRPeer).", peer);
        return _process.StartAsync(peer, ["--urls", $"http://127.0.0.1:{Port}", "--redis", _redisConfiguration, "--Logging:LogLevel:Default=Warning"], "healthz");
    }

    /// <summary>SIGKILL: nothing of the node's shutdown runs; its connections drop and its Redis subscriptions with them.</summary>
    public void Kill() => _process.Kill();

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
