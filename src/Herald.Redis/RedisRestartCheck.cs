using Herald.Engine;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Detects a Redis that restarted or failed over since the data was written, and whether it may
/// have lost acknowledged writes meanwhile: then every partition moves to a new era, once, whatever
/// the number of nodes that notice. Runs when the engine starts and after every reconnect.
/// </summary>
/// <remarks>
/// A restart loses nothing acknowledged only with <c>appendonly yes</c> and <c>appendfsync always</c>
/// (Redis fsyncs before it answers); a promoted replica (<c>master_replid2</c> set) may lack what its
/// old primary acknowledged whatever the fsync setting, since replication is asynchronous. When
/// Redis refuses <c>INFO</c> or <c>CONFIG GET</c> (some managed services), persistence is assumed lossy
/// and only the partitions' write counters detect a loss.
/// </remarks>
internal sealed class RedisRestartCheck(IConnectionMultiplexer redis, RedisKeys keys, ILogger logger)
{
    public async Task<long> RunAsync()
    {
        var server = PrimaryServer();
        if (server is null)
            return 0;

        var (persistence, lossy) = await ReadPersistenceAsync(server).ConfigureAwait(false);
        string runId;
        bool promoted;
        try
        {
            var info = await server.InfoAsync("server").ConfigureAwait(false);
            runId = Value(info, "run_id") ?? string.Empty;
            var replication = await server.InfoAsync("replication").ConfigureAwait(false);
            var replid2 = Value(replication, "master_replid2");
            promoted = replid2 is not null && replid2.Trim('0').Length > 0;
        }
        catch (RedisServerException ex)
        {
            RedisLog.InfoRefused(logger, "INFO", ex.Message);
            return 0;
        }

        if (runId.Length == 0)
            return 0;

        var restartLoses = lossy || promoted;
        var scriptKeys = new RedisKey[1 + keys.Partitions];
        var values = new RedisValue[2 + keys.Partitions];
        scriptKeys[0] = keys.RunId;
        values[0] = runId;
        values[1] = restartLoses ? "1" : "0";
        for (var p = 0; p < keys.Partitions; p++)
        {
            scriptKeys[1 + p] = keys.Era(p);
            values[2 + p] = Epochs.New();
        }

        var rotated = (long)await redis.GetDatabase().ScriptEvaluateAsync(RedisScripts.CheckRestart, scriptKeys, values).ConfigureAwait(false);
        if (rotated > 0)
            RedisLog.RestartRotated(logger, runId, promoted ? persistence + ", promoted replica" : persistence, rotated);
        return rotated;
    }

    /// <summary>Reads appendonly/appendfsync and logs what an acknowledged publish survives; lossy when they cannot be read.</summary>
    public async Task<(string Persistence, bool Lossy)> ReadPersistenceAsync(IServer? server = null)
    {
        server ??= PrimaryServer();
        if (server is null)
            return ("unknown", true);
        try
        {
            var appendOnly = (await server.ConfigGetAsync("appendonly").ConfigureAwait(false)).FirstOrDefault().Value;
            var fsync = (await server.ConfigGetAsync("appendfsync").ConfigureAwait(false)).FirstOrDefault().Value;
            var persistence = $"appendonly={appendOnly}, appendfsync={fsync}";
            var lossy = !string.Equals(appendOnly, "yes", StringComparison.OrdinalIgnoreCase) || !string.Equals(fsync, "always", StringComparison.OrdinalIgnoreCase);
            return (persistence, lossy);
        }
        catch (RedisServerException ex)
        {
            RedisLog.InfoRefused(logger, "CONFIG GET", ex.Message);
            return ("unknown (CONFIG GET refused)", true);
        }
    }

    private IServer? PrimaryServer() =>
        redis.GetServers().FirstOrDefault(s => s.IsConnected && !s.IsReplica);

    private static string? Value(IGrouping<string, KeyValuePair<string, string>>[] info, string key) =>
        info.SelectMany(g => g).Where(p => p.Key == key).Select(p => p.Value).FirstOrDefault();
}
