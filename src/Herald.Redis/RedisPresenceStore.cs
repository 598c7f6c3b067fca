using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Presence;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Presence shared by every node on Redis: one script per change batch (<see cref="RedisPresenceScripts.Apply"/>)
/// updates the channel's members and connections, numbers the diff, keeps it and publishes it on
/// the channel's pub/sub, so all nodes deliver one order. Liveness is a <b>node lease</b>, not a
/// refresh per connection: each node renews its lease every maintenance round; when a node's lease
/// expires, whichever node sees it first makes that node's connections leave.
/// </summary>
/// <remarks>
/// Keys: per channel <c>P:{p}:pr:st:</c>, <c>pr:m:</c>, <c>pr:c:</c>, <c>pr:d:</c> (state, members,
/// connections, diffs) and per partition <c>P:{p}:pr:t</c> (channels with something due) — one
/// slot per call. Outside the scripts: <c>P:pr:nodes</c> (node → lease expiry), <c>P:pr:node:&lt;id&gt;</c>
/// (a node's connections, <c>channel\nconnection</c>) and <c>P:pr:online</c> (user → connections),
/// each updated right after the script that changed them.
/// </remarks>
internal sealed class RedisPresenceStore(IConnectionMultiplexer redis, RedisEngineOptions options, TimeProvider? time = null) : IPresenceStore
{
    private const int ValuesPerChange = 7;

    // The script's answer: seq, users, connections, diffed, leaves, occupancy, joined, left, then the deltas.
    private const int FirstDelta = 8;
    private static readonly TimeSpan s_emptyRetention = TimeSpan.FromMinutes(5);
    private readonly RedisKeys _keys = new(options.Prefix, options.Partitions);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly RedisKey _nodes = options.Prefix + ":pr:nodes";
    private readonly RedisKey _online = options.Prefix + ":pr:online";

    private IDatabase Db => redis.GetDatabase();

    public async ValueTask<PresenceApplied> ApplyAsync(string channel, IReadOnlyList<PresenceChange> changes, PresenceLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(changes);
        var values = new List<RedisValue>(6 + (changes.Count * ValuesPerChange));
        foreach (var change in changes)
        {
            values.Add(change.Kind switch { PresenceChangeKind.Join => "j", PresenceChangeKind.Leave => "l", _ => "s" });
            values.Add(change.Connection);
            values.Add(change.User ?? string.Empty);
            values.Add(change.Info.IsEmpty ? RedisValue.EmptyString : (RedisValue)change.Info);
            values.Add(change.Status is null ? RedisValue.EmptyString : "=" + change.Status);
            values.Add(Ms(change.LeaveAt));
            values.Add(Ms(change.ExpiresAt));
        }

        var (applied, _) = await RunScriptAsync(channel, values, limits).ConfigureAwait(false);
        await TrackConnectionsAsync(channel, changes).ConfigureAwait(false);
        return applied;
    }

    public async ValueTask<PresencePage> ReadAsync(string channel, string? afterUser, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var partition = _keys.PartitionOf(channel);
        return await RunAsync(async db =>
        {
            // The position first, then the members: a diff after it may be in the page already.
            var state = await db.HashGetAsync(Key(partition, "st:", channel), ["e", "q"]).ConfigureAwait(false);
            var all = await db.HashGetAllAsync(Key(partition, "m:", channel)).ConfigureAwait(false);
            var connections = await db.HashLengthAsync(Key(partition, "c:", channel)).ConfigureAwait(false);
            var members = all
                .Select(e => (User: (string)e.Name!, Raw: (string)e.Value!))
                .Where(e => afterUser is null || string.CompareOrdinal(e.User, afterUser) > 0)
                .OrderBy(e => e.User, StringComparer.Ordinal)
                .Take(limit + 1)
                .Select(e => ToMember(e.User, e.Raw))
                .ToList();
            string? next = null;
            if (members.Count > limit)
            {
                members.RemoveAt(limit);
                next = members[^1].User;
            }

            return new PresencePage(
                state[0].IsNull ? string.Empty : (string)state[0]!,
                state[1].IsNull ? 0 : (long)state[1],
                new PresenceCounts(all.Length, (int)connections),
                members,
                next);
        }).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ReadOnlyMemory<byte>>?> ReadDiffsAsync(string channel, string epoch, long afterSeq, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var partition = _keys.PartitionOf(channel);
        var (state, diffs) = await RunAsync(async db =>
        {
            var s = await db.HashGetAsync(Key(partition, "st:", channel), ["e", "q"]).ConfigureAwait(false);
            var d = await db.ListRangeAsync(Key(partition, "d:", channel)).ConfigureAwait(false);
            return (s, d);
        }).ConfigureAwait(false);
        if (state[0].IsNull || !string.Equals((string?)state[0], epoch, StringComparison.Ordinal))
            return null;
        var seq = (long)state[1];
        if (afterSeq > seq)
            return null;
        var missing = seq - afterSeq;
        if (missing > diffs.Length)
            return null;
        return [.. diffs.Skip(diffs.Length - (int)missing).Select(d => (ReadOnlyMemory<byte>)(byte[])d!)];
    }

    public async ValueTask<IReadOnlyDictionary<string, int>> OnlineAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var counts = await RunAsync(db => db.HashGetAsync(_online, [.. users.Select(u => (RedisValue)u)])).ConfigureAwait(false);
        var online = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < users.Count; i++)
            online[users[i]] = counts[i].IsNull ? 0 : Math.Max(0, (int)counts[i]);
        return online;
    }

    public async ValueTask<PresenceMaintenance> MaintainAsync(string node, PresenceLimits limits, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        await RunAsync(db => db.SortedSetAddAsync(_nodes, node, nowMs + (long)limits.NodeLease.TotalMilliseconds)).ConfigureAwait(false);

        // Channels with a leave or a lease due, in every partition: one round trip.
        var batch = Db.CreateBatch();
        var due = new Task<RedisValue[]>[_keys.Partitions];
        for (var p = 0; p < due.Length; p++)
            due[p] = batch.SortedSetRangeByScoreAsync(Timed(p), double.NegativeInfinity, nowMs);
        batch.Execute();
        var leaves = 0;
        var transitions = new List<PresenceTransition>();
        foreach (var channel in (await RunAsync(async _ => await Task.WhenAll(due).ConfigureAwait(false)).ConfigureAwait(false)).SelectMany(c => c).Select(c => (string)c!).Distinct(StringComparer.Ordinal))
        {
            var (applied, left) = await RunScriptAsync(channel, ["m", string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty], limits).ConfigureAwait(false);
            leaves += left;
            if (applied.Transition is { } transition)
                transitions.Add(transition);
        }

        // Nodes whose lease expired: their connections leave (the lease is longer than a grace).
        // Several nodes may sweep the same dead node at once: each leave is applied by one script
        // call only, and only that call's node is told of it.
        var dead = await RunAsync(db => db.SortedSetRangeByScoreAsync(_nodes, double.NegativeInfinity, nowMs)).ConfigureAwait(false);
        foreach (var gone in dead.Select(d => (string)d!))
            leaves += await SweepNodeAsync(gone, limits, transitions).ConfigureAwait(false);
        return leaves == 0 && transitions.Count == 0 ? PresenceMaintenance.None : new PresenceMaintenance(leaves, transitions);
    }

    private async Task<int> SweepNodeAsync(string node, PresenceLimits limits, List<PresenceTransition> transitions)
    {
        var set = NodeSet(node);
        var entries = await RunAsync(db => db.SetMembersAsync(set)).ConfigureAwait(false);
        var leaves = 0;
        foreach (var group in entries.Select(e => ((string)e!).Split('\n', 2)).Where(e => e.Length == 2).GroupBy(e => e[0], StringComparer.Ordinal))
        {
            var values = new List<RedisValue>();
            foreach (var entry in group)
                values.AddRange(["l", entry[1], string.Empty, string.Empty, string.Empty, string.Empty, string.Empty]);
            var (applied, left) = await RunScriptAsync(group.Key, values, limits).ConfigureAwait(false);
            leaves += left;
            if (applied.Transition is { } transition)
                transitions.Add(transition);
        }

        await RunAsync(async db =>
        {
            await db.KeyDeleteAsync(set).ConfigureAwait(false);
            return await db.SortedSetRemoveAsync(_nodes, node).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return leaves;
    }

    private async Task<(PresenceApplied Applied, int Leaves)> RunScriptAsync(string channel, List<RedisValue> changes, PresenceLimits limits)
    {
        var partition = _keys.PartitionOf(channel);
        RedisKey[] keys = [Key(partition, "st:", channel), Key(partition, "m:", channel), Key(partition, "c:", channel), Key(partition, "d:", channel), Timed(partition)];
        var now = _time.GetUtcNow();
        RedisValue[] values =
        [
            channel,
            now.ToUnixTimeMilliseconds(),
            Math.Max(1, limits.ResumeDiffs),
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            _keys.PubSubName(partition, channel),
            (long)s_emptyRetention.TotalMilliseconds,
            .. changes,
        ];
        var result = (RedisResult[])(await RunAsync(db => db.ScriptEvaluateAsync(RedisPresenceScripts.Apply, keys, values)).ConfigureAwait(false))!;
        var counts = new PresenceCounts((int)result[1], (int)result[2]);
        var applied = new PresenceApplied((long)result[0], counts, (long)result[3] == 1, Transition(channel, now, result));
        if (result.Length > FirstDelta)
        {
            var batch = Db.CreateBatch();
            var updates = new List<Task>();
            for (var i = FirstDelta; i + 1 < result.Length; i += 2)
                updates.Add(batch.HashIncrementAsync(_online, (string)result[i]!, (long)result[i + 1]));
            batch.Execute();
            await RunAsync(async _ =>
            {
                await Task.WhenAll(updates).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        }

        return (applied, (int)(long)result[4]);
    }

    /// <summary>
    /// What the script call changed (<see cref="RedisPresenceScripts.Apply"/>'s occupancy, joined and
    /// left): the script ran atomically, so no other call, on any node, is told the same.
    /// </summary>
    private static PresenceTransition? Transition(string channel, DateTimeOffset at, RedisResult[] result)
    {
        var occupancy = (string?)result[5];
        var joinedRaw = (RedisResult[])result[6]!;
        var leftRaw = (RedisResult[])result[7]!;
        if (string.IsNullOrEmpty(occupancy) && joinedRaw.Length == 0 && leftRaw.Length == 0)
            return null;
        var joined = new List<PresenceMember>(joinedRaw.Length / 5);
        for (var i = 0; i + 4 < joinedRaw.Length; i += 5)
        {
            var info = (string?)joinedRaw[i + 1];
            var status = (string?)joinedRaw[i + 4];
            joined.Add(new PresenceMember(
                (string)joinedRaw[i]!,
                string.IsNullOrEmpty(info) ? ReadOnlyMemory<byte>.Empty : Encoding.UTF8.GetBytes(info),
                string.IsNullOrEmpty(status) ? null : status,
                (int)(long)joinedRaw[i + 2],
                DateTimeOffset.FromUnixTimeMilliseconds((long)joinedRaw[i + 3])));
        }

        var left = leftRaw.Select(u => (string)u!).ToList();
        var occupied = occupancy == "o";
        var vacated = occupancy == "v";
        return new PresenceTransition(channel, at, occupied, vacated, joined, left);
    }

    /// <summary>Which connections live on which node (a join or leave of a <c>node/session</c> connection), for sweeping a dead node.</summary>
    private async Task TrackConnectionsAsync(string channel, IReadOnlyList<PresenceChange> changes)
    {
        var batch = Db.CreateBatch();
        var tasks = new List<Task>();
        foreach (var change in changes)
        {
            var slash = change.Connection.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || change.ExpiresAt is not null || change.Kind == PresenceChangeKind.Status)
                continue;
            var set = NodeSet(change.Connection[..slash]);
            var member = channel + "\n" + change.Connection;
            tasks.Add(change.Kind == PresenceChangeKind.Join ? batch.SetAddAsync(set, member) : batch.SetRemoveAsync(set, member));
        }

        if (tasks.Count == 0)
            return;
        batch.Execute();
        await RunAsync(async _ =>
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    private static PresenceMember ToMember(string user, string raw)
    {
        using var document = JsonDocument.Parse(raw);
        var root = document.RootElement;
        var info = root.TryGetProperty("i", out var i) && i.GetString() is { Length: > 0 } text ? Encoding.UTF8.GetBytes(text) : [];
        var status = root.TryGetProperty("st", out var st) ? st.GetString() : null;
        return new PresenceMember(user, info, status, root.GetProperty("c").GetInt32(), DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("s").GetInt64()));
    }

    private static RedisValue Ms(DateTimeOffset? at) =>
        at is { } value ? value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : RedisValue.EmptyString;

    private RedisKey Key(int partition, string kind, string channel) => _keys.Presence(partition, kind, channel);

    private RedisKey Timed(int partition) => _keys.PresenceTimed(partition);

    private RedisKey NodeSet(string node) => options.Prefix + ":pr:node:" + node;

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> call)
    {
        try
        {
            return await call(Db).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }
    }
}
