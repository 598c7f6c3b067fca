namespace Herald.Testing.Cluster;

/// <summary>One real <c>herald serve --store redis</c> process on a fixed loopback port, killable with SIGKILL and restartable on the same port.</summary>
public sealed class HeraldNode : IAsyncDisposable
{
    private readonly NodeProcess _process;
    private readonly string _dataDirectory;
    private readonly string[] _settings;

    /// <param name="logDirectory">When set, the node's output is appended to <c>node-{index}.log</c> there.</param>
    public HeraldNode(int index, string redisConfiguration, string? logDirectory, IEnumerable<string> settings)
    {
        Index = index;
        _process = new NodeProcess($"herald node {index}", logDirectory is null ? null : Path.Combine(logDirectory, $"node-{index}.log"));
        _dataDirectory = Path.Combine(Path.GetTempPath(), "herald-chaos", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);
        _settings = ["--store", "redis", "--redis", redisConfiguration, .. settings];
    }

    public int Index { get; }

    public int Port => _process.Port;

    public bool IsRunning => _process.IsRunning;

    public Uri BaseAddress => _process.BaseAddress;

    public Task StartAsync() =>
        _process.StartAsync(Path.Combine(AppContext.BaseDirectory, "herald.dll"), ["serve", "--urls", $"http://127.0.0.1:{Port}", "--data", _dataDirectory, .. _settings], "readyz");

    /// <summary>SIGKILL: nothing of the node's shutdown runs.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        _process.Dispose();
        await Task.Yield();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
