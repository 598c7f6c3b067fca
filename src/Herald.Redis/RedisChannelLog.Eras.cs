using System.Globalization;
using Herald.Engine;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Era names: <c>{generation}.{random}</c>. The generation only grows (each rotation takes one
/// above both the era it replaces and every era the rotating node saw), so a node can tell a newer
/// era from an older one: Redis restored from a copy taken before a rotation comes back in an era
/// whose generation is not above the one the node saw — gone back in time, as surely as a write
/// counter that went down. Eras written before generations existed (no dot) are generation 0.
/// </summary>
internal static class RedisEras
{
    public static long Generation(string era)
    {
        var dot = era.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && long.TryParse(era.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var generation) ? generation : 0;
    }

    /// <summary>A new era above every one of <paramref name="known"/> (empty ones count as generation 0).</summary>
    public static string Next(string random, params ReadOnlySpan<string> known)
    {
        long floor = 0;
        foreach (var era in known)
            floor = Math.Max(floor, Generation(era));
        return (floor + 1).ToString(CultureInfo.InvariantCulture) + "." + random;
    }

    /// <summary>Why <see cref="WentBack"/> said so, for the rotation's log line; <paramref name="when"/> says where it was seen.</summary>
    public static string Why(string era, long writeCounter, (string Era, long WriteCounter) seen, string when) =>
        string.Equals(era, seen.Era, StringComparison.Ordinal)
            ? $"its write counter is {writeCounter} {when}, below the {seen.WriteCounter} this node saw"
            : $"it is back in era {era} {when}, older than the era {seen.Era} this node saw";

    /// <summary>
    /// Whether Redis answering <paramref name="era"/> and <paramref name="writeCounter"/> went back in
    /// time from what a node knew when it asked (<paramref name="seen"/>): the same era with a lower
    /// write counter, or another era that is not newer.
    /// </summary>
    public static bool WentBack(string era, long writeCounter, (string Era, long WriteCounter) seen)
    {
        if (era.Length == 0 || seen.Era.Length == 0)
            return false;
        if (string.Equals(era, seen.Era, StringComparison.Ordinal))
            return writeCounter < seen.WriteCounter;
        return Generation(era) <= Generation(seen.Era);
    }

    /// <summary>The Lua function every script that compares or makes eras starts with.</summary>
    public const string LuaGeneration = """
        local function generation(era)
          if not era then return 0 end
          return tonumber(string.match(era, '^(%d+)%.') or '0')
        end

        """;
}

public sealed partial class RedisChannelLog
{
    /// <summary>What this node knew of a partition when it sent a request: the newest era it saw and the highest write counter seen in it.</summary>
    private (string Era, long WriteCounter) Watermark(int partition)
    {
        var watch = _eras[partition];
        lock (watch.Lock)
            return (watch.Era, watch.MaxWriteCounter);
    }

    /// <summary>
    /// Notes a partition's era and write counter as a script returned them. An answer that went back
    /// from what this node knew <em>before it sent the request</em> (answers of concurrent requests
    /// may be handled in any order, but none can be older than what was known when it was sent) —
    /// a lower write counter in the same era, or an era not newer than the one seen — means Redis
    /// went back in time: the partition is moved to a new era (unless another node just did) and
    /// true is returned, so the caller reads again.
    /// </summary>
    private async ValueTask<bool> ObserveAsync(int partition, string era, long writeCounter, (string Era, long WriteCounter) sent)
    {
        Note(partition, era, writeCounter);
        if (!RedisEras.WentBack(era, writeCounter, sent))
            return false;

        await RotateEraAsync(partition, era, RedisEras.Why(era, writeCounter, sent, "in an answer")).ConfigureAwait(false);
        return true;
    }

    /// <summary>Raises the partition's watermark: a newer era starts counting over; an older one is not adopted.</summary>
    private void Note(int partition, string era, long writeCounter)
    {
        if (era.Length == 0)
            return;
        var watch = _eras[partition];
        lock (watch.Lock)
        {
            if (string.Equals(watch.Era, era, StringComparison.Ordinal))
            {
                if (writeCounter > watch.MaxWriteCounter)
                    watch.MaxWriteCounter = writeCounter;
            }
            else if (watch.Era.Length == 0 || RedisEras.Generation(era) > RedisEras.Generation(watch.Era))
            {
                watch.Era = era;
                watch.MaxWriteCounter = writeCounter;
            }
        }
    }

    /// <summary>
    /// A write counter another node's append reached, as its pub/sub message tells: raises this
    /// node's watermark. A publication appended in an era older than one this node saw (by a node
    /// that did not know better, e.g. one just restarted) means Redis went back: the partition moves
    /// to a new era, which fails harmlessly when Redis has moved on already.
    /// </summary>
    internal void ObserveRemote(int partition, string era, long writeCounter)
    {
        var seen = Watermark(partition);
        Note(partition, era, writeCounter);
        if (seen.Era.Length == 0 || string.Equals(era, seen.Era, StringComparison.Ordinal) || RedisEras.Generation(era) > RedisEras.Generation(seen.Era))
            return;
        _ = RotateQuietlyAsync(partition, era, $"a publication was appended in era {era}, older than the era {seen.Era} this node saw");
    }

    private async Task RotateQuietlyAsync(int partition, string era, string reason)
    {
        try
        {
            await RotateEraAsync(partition, era, reason).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EngineUnavailableException or RedisException)
        {
            // Unreachable now: the reconnect's watermark check (or the next append's) looks again.
        }
    }

    /// <summary>
    /// After a reconnect: every partition whose write counter in Redis is below what this node saw
    /// in the same era, or whose era is not newer than the one this node saw, went back in time
    /// (restored from an older copy, or a replica that lacked the last writes) and moves to a new
    /// era now, before this node appends to it again.
    /// </summary>
    internal async Task CheckWatermarksAsync()
    {
        // What this node knew before it asks: appends answered meanwhile raise the watermarks past
        // what the reads below can show, which must not look like Redis going back.
        var known = new (string Era, long WriteCounter)[_keys.Partitions];
        for (var p = 0; p < known.Length; p++)
            known[p] = Watermark(p);
        var db = _redis.GetDatabase();
        var batch = db.CreateBatch();
        var reads = new (Task<RedisValue> Era, Task<RedisValue> Counter)[_keys.Partitions];
        for (var p = 0; p < reads.Length; p++)
            reads[p] = (batch.StringGetAsync(_keys.Era(p)), batch.StringGetAsync(_keys.WriteCounter(p)));
        batch.Execute();
        for (var p = 0; p < reads.Length; p++)
        {
            var current = (string?)await reads[p].Era.ConfigureAwait(false) ?? string.Empty;
            var counter = (long?)await reads[p].Counter.ConfigureAwait(false) ?? 0;
            if (!RedisEras.WentBack(current, counter, known[p]))
                continue;
            await RotateEraAsync(p, current, RedisEras.Why(current, counter, known[p], "after a reconnect")).ConfigureAwait(false);
        }
    }

    /// <summary>Moves a partition from <paramref name="seen"/> to a new era above it and above every era this node saw, if it is still in <paramref name="seen"/>.</summary>
    internal async Task RotateEraAsync(int partition, string seen, string reason)
    {
        var next = RedisEras.Next(Epochs.New(), Watermark(partition).Era, seen);
        var result = await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.RotateEra, [_keys.Era(partition)], [seen, next])).ConfigureAwait(false);
        if ((long)result == 1)
        {
            Interlocked.Increment(ref _rotations);
            Note(partition, next, 0);
            RedisLog.EraRotated(_logger, partition, seen, next, reason);
        }
    }
}
