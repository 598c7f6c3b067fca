using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Herald.Testing;

/// <summary>
/// A Redis primary, one replica and one Sentinel watching them (quorum 1, down after 1 s): what a
/// team runs for failover. Clients connect through the Sentinel
/// (<see cref="Configuration"/>: <c>serviceName=herald</c>). <see cref="FailOverAsync"/> kills the
/// primary with SIGKILL, waits for the Sentinel to promote the replica, then starts the old primary
/// again, which the Sentinel turns into the new primary's replica. Replication is asynchronous:
/// what the primary acknowledged just before it died may be missing on the replica.
/// </summary>
public sealed class RedisFailover : IAsyncDisposable
{
    public const string ServiceName = "herald";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private readonly string _directory;
    private Process? _sentinel;

    private RedisFailover(RedisServer primary, RedisServer replica, int sentinelPort, string directory)
    {
        Primary = primary;
        Replica = replica;
        SentinelPort = sentinelPort;
        _directory = directory;
    }

    /// <summary>The server the Sentinel names primary now.</summary>
    public RedisServer Primary { get; private set; }

    public RedisServer Replica { get; private set; }

    public int SentinelPort { get; }

    public int Failovers { get; private set; }

    /// <summary>The StackExchange.Redis configuration string: through the Sentinel.</summary>
    public string Configuration => $"127.0.0.1:{SentinelPort},serviceName={ServiceName},abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000";

    /// <param name="appendFsync">Both servers' AOF fsync policy (null: no persistence).</param>
    public static async Task<RedisFailover> StartAsync(string? appendFsync)
    {
        var primary = await RedisServer.StartAsync(appendFsync);
        var replica = await RedisServer.StartAsync(appendFsync, "--replicaof", "127.0.0.1", Port(primary));
        var directory = Path.Combine(Path.GetTempPath(), "herald-redis", "sentinel-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var failover = new RedisFailover(primary, replica, RedisServer.FreePort(), directory);
        try
        {
            await WaitForReplicaAsync(replica);
            await failover.StartSentinelAsync();
            return failover;
        }
        catch
        {
            await failover.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the primary, waits until the Sentinel promoted the replica, and brings the old primary back as its replica.</summary>
    /// <param name="rejoinAsPrimary">Start the old primary again on its files as it was configured (a primary) and let the Sentinel demote it, instead of as a replica.</param>
    public async Task FailOverAsync(bool rejoinAsPrimary = false)
    {
        var old = Primary;
        var promoted = Replica;
        old.Kill();
        var deadline = DateTime.UtcNow + s_timeout;
        while (await PrimaryPortAsync() != promoted.Port)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the Sentinel did not promote the replica on port {promoted.Port} within {s_timeout}.");
            await Task.Delay(100);
        }

        Primary = promoted;
        Replica = old;
        Failovers++;

        // The old primary rejoins as the new one's replica, as its configuration must make it do
        // (docs/scaling.md): it syncs from the new primary, dropping what the new one lacks. Started
        // as a primary on its old files instead, it would serve its old data until the Sentinel
        // demotes it, and StackExchange.Redis, which also connects to the replicas the Sentinel
        // names, may send writes there meanwhile.
        if (rejoinAsPrimary)
            await old.RestartAsync();
        else
            await old.RestartAsReplicaAsync(promoted.Port);
        await WaitForReplicaAsync(old);
    }

    public async ValueTask DisposeAsync()
    {
        if (_sentinel is { HasExited: false } sentinel)
        {
            sentinel.Kill();
            await sentinel.WaitForExitAsync();
        }

        _sentinel?.Dispose();
        await Primary.DisposeAsync();
        await Replica.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartSentinelAsync()
    {
        var file = Path.Combine(_directory, "sentinel.conf");
        await File.WriteAllTextAsync(file, string.Join('\n',
            $"port {SentinelPort}",
            "bind 127.0.0.1",
            $"dir {_directory}",
            $"sentinel monitor {ServiceName} 127.0.0.1 {Primary.Port} 1",
            $"sentinel down-after-milliseconds {ServiceName} 1000",
            $"sentinel failover-timeout {ServiceName} 10000",
            $"sentinel parallel-syncs {ServiceName} 1",
            string.Empty));
        var info = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(file);
        info.ArgumentList.Add("--sentinel");
        _sentinel = Process.Start(info) ?? throw new InvalidOperationException("redis-server --sentinel did not start.");
        _sentinel.OutputDataReceived += (_, _) => { };
        _sentinel.ErrorDataReceived += (_, _) => { };
        _sentinel.BeginOutputReadLine();
        _sentinel.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + s_timeout;
        while (await PrimaryPortAsync() != Primary.Port)
        {
            if (_sentinel.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"the Sentinel on port {SentinelPort} did not come up watching port {Primary.Port}.");
            await Task.Delay(100);
        }
    }

    /// <summary>The primary's port as the Sentinel names it (0 when it cannot be asked).</summary>
    private async Task<int> PrimaryPortAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, SentinelPort);
            var stream = client.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"SENTINEL get-master-addr-by-name {ServiceName}\r\n"));
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            // *2\r\n$9\r\n127.0.0.1\r\n$5\r\n12345\r\n
            var lines = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n");
            return lines.Length >= 5 && int.TryParse(lines[4], NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : 0;
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException)
        {
            return 0;
        }
    }

    /// <summary>Waits until <paramref name="server"/> is a replica with its link to the primary up and in sync.</summary>
    private static async Task WaitForReplicaAsync(RedisServer server)
    {
        await using var connection = await server.ConnectAsync();
        var deadline = DateTime.UtcNow + s_timeout;
        while (true)
        {
            try
            {
                var info = await connection.GetServer(connection.GetEndPoints()[0]).InfoRawAsync("replication") ?? string.Empty;
                if (info.Contains("role:slave", StringComparison.Ordinal) && info.Contains("master_link_status:up", StringComparison.Ordinal)
                    && !info.Contains("master_sync_in_progress:1", StringComparison.Ordinal))
                    return;
            }
            catch (RedisException)
            {
            }

            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"redis on port {server.Port} did not become an in-sync replica within {s_timeout}.");
            await Task.Delay(100);
        }
    }

    private static string Port(RedisServer server) => server.Port.ToString(CultureInfo.InvariantCulture);
}
