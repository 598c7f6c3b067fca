using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Herald.Testing;

/// <summary>
/// A real <c>redis-server</c> for one test or fixture: a free loopback port, a temporary directory,
/// persistence chosen per test, and the means to kill it (SIGKILL) and start it again on the same
/// files — the way Redis really fails.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly string _directory;
    private string[] _settings;
    private Process? _process;

    private RedisServer(int port, string directory, string[] settings)
    {
        Port = port;
        _directory = directory;
        _settings = settings;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    /// <summary>Whether redis-server is installed (./test.sh installs it).</summary>
    public static bool IsInstalled => File.Exists("/usr/bin/redis-server") || File.Exists("/usr/local/bin/redis-server");

    /// <summary>
    /// Starts a server. <paramref name="appendFsync"/> null: no AOF, no snapshots (a restart comes
    /// back empty); <c>rdb</c>: snapshots on Redis's default schedule, no AOF; otherwise AOF with
    /// that fsync policy (<c>always</c>, <c>everysec</c>, <c>no</c>).
    /// </summary>
    public static async Task<RedisServer> StartAsync(string? appendFsync = null, params string[] extra)
    {
        if (!IsInstalled)
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it (apt-get install redis-server).");

        var directory = Path.Combine(Path.GetTempPath(), "herald-redis", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string[] settings = appendFsync switch
        {
            null => ["--appendonly", "no", "--save", ""],
            // Snapshots only, on Redis's default schedule: a crash loses what came after the last one.
            "rdb" => ["--appendonly", "no", "--save", "3600 1 300 100 60 10000"],
            _ => ["--appendonly", "yes", "--appendfsync", appendFsync, "--save", ""],
        };
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(FreePort(), directory, [.. settings, .. extra]);
            try
            {
                await server.StartProcessAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // The free port was taken between the probe and redis-server's bind (another test,
                // or another suite running beside this one): another port.
                server.Kill();
            }
        }
    }

    /// <summary>A connection to this server for a test's own commands (checks, FLUSHALL, CLIENT KILL).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration + ",allowAdmin=true");

    /// <summary>SIGKILL: no shutdown, no final fsync — what a crash does.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port and files (after <see cref="Kill"/>).</summary>
    /// <summary>Starts the server again on its files as a replica of <paramref name="primaryPort"/> (a failed primary rejoining).</summary>
    public Task RestartAsReplicaAsync(int primaryPort)
    {
        Kill();
        _settings = [.. _settings.TakeWhile(s => s != "--replicaof"), "--replicaof", "127.0.0.1", primaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        return StartProcessAsync();
    }

    public Task RestartAsync()
    {
        Kill();
        return StartProcessAsync();
    }

    /// <summary>Copies the AOF directory aside (a backup to restore later: <see cref="RestoreAsync"/>).</summary>
    public string Snapshot()
    {
        var copy = _directory + "-snapshot-" + Guid.NewGuid().ToString("N")[..8];
        CopyDirectory(_directory, copy);
        return copy;
    }

    /// <summary>Kills the server and restarts it from <paramref name="snapshot"/>: Redis back in time.</summary>
    public Task RestoreAsync(string snapshot)
    {
        Kill();
        Directory.Delete(_directory, recursive: true);
        CopyDirectory(snapshot, _directory);
        return StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartProcessAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory, "--daemonize", "no", "--protected-mode", "no", .. _settings])
            info.ArgumentList.Add(argument);
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + s_startTimeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[64];
                var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
                if (read > 0 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException)
            {
            }

            if (_process.HasExited)
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"redis-server did not answer PING on port {Port} within {s_startTimeout}.");
            await Task.Delay(50);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
