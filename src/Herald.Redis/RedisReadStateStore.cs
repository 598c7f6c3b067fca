using System.Globalization;
using Herald.Engine;
using Herald.Reading;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Read markers and mentions shared by every node on Redis. Each user has three keys under one
/// hash tag, so one user's keys share a Cluster slot and every change is one script
/// (<see cref="RedisReadStateScripts"/>), atomic per user:
/// <list type="table">
/// <item><term><c>P:rs:{u:&lt;user&gt;}:c</c></term><description>sorted set: the user's channels, scored by the user's change counter (the listing, most recent first).</description></item>
/// <item><term><c>P:rs:{u:&lt;user&gt;}:m</c></term><description>hash: channel → marker, <c>"offset n updated_ms epoch"</c>.</description></item>
/// <item><term><c>P:rs:{u:&lt;user&gt;}:x</c></term><description>hash: channel → mentions, <c>"offset,offset,… epoch"</c> (oldest first, one epoch).</description></item>
/// </list>
/// </summary>
/// <remarks>
/// No key has a TTL: read state is durable, as durable as Redis's persistence makes it (docs/scaling.md),
/// and leaves only through <see cref="RemoveAsync"/>. <see cref="ReadMarker.UpdatedAt"/> is kept in
/// unix milliseconds. Unlike the channel log, read state is not checked against eras: after Redis
/// lost writes, a marker may be older than one a client was told — its channels then count a few
/// messages unread again, which a marker from the client repairs.
/// </remarks>
public sealed class RedisReadStateStore : IReadStateStore
{
    /// <summary>An entry's mentions when it has none, shared: most entries have none.</summary>
    private static readonly Position[] s_none = [];

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly string _membersPrefix;

    /// <param name="redis">The engine's connection.</param>
    /// <param name="options">The engine's options: keys live under its <see cref="RedisEngineOptions.Prefix"/>.</param>
    public RedisReadStateStore(IConnectionMultiplexer redis, RedisEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _prefix = options.Prefix + ":rs:{u:";
        _membersPrefix = options.Prefix + ":rs:{c:";
    }

    public async ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(marker);
        ArgumentException.ThrowIfNullOrEmpty(marker.Epoch, nameof(marker));
        ArgumentOutOfRangeException.ThrowIfNegative(marker.Offset, nameof(marker));
        var (script, mode) = write switch
        {
            MarkerWrite.Seen => (RedisReadStateScripts.SetReceipt, "s"),
            MarkerWrite.Delivered => (RedisReadStateScripts.SetReceipt, "d"),
            MarkerWrite.ReadBackward => (RedisReadStateScripts.SetMarker, "1"),
            MarkerWrite.ReadAndSeen => (RedisReadStateScripts.SetMarker, "2"),
            _ => (RedisReadStateScripts.SetMarker, "0"),
        };
        RedisValue[] values = [channel, marker.Epoch, Text(marker.Offset), Text(marker.N), Text(marker.UpdatedAt.ToUnixTimeMilliseconds()), mode];
        var result = (RedisResult[])(await RunAsync(db => WithMemberAsync(db, channel, user, db.ScriptEvaluateAsync(script, Keys(user), values))).ConfigureAwait(false))!;
        return new MarkerUpdate(ParseMarker((string)result[1]!), Changed: (long)result[0] == 1, SeenChanged: result.Length > 2 && (long)result[2] == 1);
    }

    /// <summary>
    /// The channel's members: a sorted set of user ids (all scores 0, so in ordinal order), in the
    /// channel's own slot, so a user's scripts cannot write it. A user is added with each write that
    /// may create the user's entry, side by side with it (one round trip), and removed with the
    /// entry; a member whose entry is missing (a failed write) is skipped when read.
    /// </summary>
    private RedisKey MembersKey(string channel) => _membersPrefix + channel + "}:m";

    private async Task<RedisResult> WithMemberAsync(IDatabase db, string channel, string user, Task<RedisResult> write)
    {
        var added = db.SortedSetAddAsync(MembersKey(channel), user, 0, SortedSetWhen.NotExists);
        await Task.WhenAll(added, write).ConfigureAwait(false);
        return await write.ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<MemberReceipt>> GetReceiptsAsync(string channel, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (limit <= 0)
            return [];
        var db = _redis.GetDatabase();
        RedisValue[] users;
        try
        {
            users = await db.SortedSetRangeByRankAsync(MembersKey(channel), 0, limit - 1).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }

        var reads = new Task<RedisValue[]>[users.Length];
        var exists = new Task<double?>[users.Length];
        RedisValue[] fields = [channel + "|s", channel + "|d"];
        for (var i = 0; i < users.Length; i++)
        {
            var keys = Keys((string)users[i]!);
            reads[i] = db.HashGetAsync(keys[3], fields);
            exists[i] = db.SortedSetScoreAsync(keys[0], channel);
        }

        try
        {
            await Task.WhenAll(reads).ConfigureAwait(false);
            await Task.WhenAll(exists).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }

        var receipts = new List<MemberReceipt>(users.Length);
        for (var i = 0; i < users.Length; i++)
        {
            if (exists[i].Result is null)
                continue;
            var values = reads[i].Result;
            receipts.Add(new MemberReceipt((string)users[i]!, values[0].IsNull ? null : ParseMarker((string)values[0]!), values[1].IsNull ? null : ParseMarker((string)values[1]!)));
        }

        return receipts;
    }

    public async ValueTask<IReadOnlyList<ReadEntry>> GetAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        RedisValue[] values;
        if (channels is null)
        {
            if (limit <= 0)
                return [];
            values = ["l", limit];
        }
        else
        {
            var distinct = new HashSet<string>(StringComparer.Ordinal);
            var list = new List<RedisValue>(channels.Count + 1) { "n" };
            foreach (var channel in channels)
            {
                if (distinct.Add(channel))
                    list.Add(channel);
            }

            if (list.Count == 1)
                return [];
            values = [.. list];
        }

        var result = (RedisResult[])(await RunAsync(db => db.ScriptEvaluateAsync(RedisReadStateScripts.Get, Keys(user), values)).ConfigureAwait(false))!;
        var entries = new List<ReadEntry>(result.Length / 3);
        for (var i = 0; i + 2 < result.Length; i += 3)
        {
            var marker = (string)result[i + 1]!;
            var mentions = (string)result[i + 2]!;
            entries.Add(new ReadEntry((string)result[i]!, marker.Length == 0 ? null : ParseMarker(marker), ParseMentions(mentions)));
        }

        return entries;
    }

    /// <summary>One script call per user (each user's keys are in their own slot), all in flight at once.</summary>
    public async ValueTask MentionAsync(string channel, IReadOnlyList<string> users, Position position, int keep, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentException.ThrowIfNullOrEmpty(position.Epoch, nameof(position));
        ArgumentOutOfRangeException.ThrowIfNegative(position.Offset, nameof(position));
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        CheckUsers(users);
        RedisValue[] values = [channel, position.Epoch, Text(position.Offset), keep];
        await ForEachAsync(users, user => RunAsync(db => WithMemberAsync(db, channel, user, db.ScriptEvaluateAsync(RedisReadStateScripts.Mention, Keys(user), values)))).ConfigureAwait(false);
    }

    /// <summary>One script call per user, all in flight at once, as <see cref="MentionAsync"/>.</summary>
    public async ValueTask JoinAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        CheckUsers(users);
        RedisValue[] values = [channel];
        await ForEachAsync(users, user => RunAsync(db => WithMemberAsync(db, channel, user, db.ScriptEvaluateAsync(RedisReadStateScripts.Join, Keys(user), values)))).ConfigureAwait(false);
    }

    public async ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var removed = await RunAsync(db => db.ScriptEvaluateAsync(RedisReadStateScripts.Remove, Keys(user), [channel])).ConfigureAwait(false);
        await RunAsync(async db => RedisResult.Create(await db.SortedSetRemoveAsync(MembersKey(channel), user).ConfigureAwait(false))).ConfigureAwait(false);
        return (long)removed == 1;
    }

    /// <summary>The user's keys: channels, markers, mentions. The hash tag is <c>{u:&lt;user&gt;}</c> (up to the first '}' a user id may hold: still one tag per user).</summary>
    internal RedisKey[] Keys(string user)
    {
        var tagged = _prefix + user + "}:";
        return [tagged + "c", tagged + "m", tagged + "x", tagged + "r"];
    }

    private static void CheckUsers(IReadOnlyList<string> users)
    {
        ArgumentNullException.ThrowIfNull(users);
        foreach (var user in users)
            ArgumentException.ThrowIfNullOrEmpty(user, nameof(users));
    }

    private static async Task ForEachAsync(IReadOnlyList<string> users, Func<string, Task<RedisResult>> call)
    {
        if (users.Count == 1)
        {
            await call(users[0]).ConfigureAwait(false);
            return;
        }

        var calls = new Task[users.Count];
        for (var i = 0; i < calls.Length; i++)
            calls[i] = call(users[i]);
        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>"offset n updated_ms epoch"</c> (the epoch last: it may hold any character).</summary>
    private static ReadMarker ParseMarker(string value)
    {
        var span = value.AsSpan();
        var offset = Next(ref span);
        var n = Next(ref span);
        var ms = Next(ref span);
        return new ReadMarker(span.ToString(), offset, n, DateTimeOffset.FromUnixTimeMilliseconds(ms));

        static long Next(ref ReadOnlySpan<char> rest)
        {
            var space = rest.IndexOf(' ');
            var number = long.Parse(rest[..space], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            rest = rest[(space + 1)..];
            return number;
        }
    }

    /// <summary>Parses <c>"offset,offset,… epoch"</c>; '' is none.</summary>
    private static IReadOnlyList<Position> ParseMentions(string value)
    {
        if (value.Length == 0)
            return s_none;

        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var epoch = value[(space + 1)..];
        var offsets = value.AsSpan(0, space);
        var mentions = new List<Position>();
        foreach (var range in offsets.Split(','))
            mentions.Add(new Position(epoch, long.Parse(offsets[range], NumberStyles.None, CultureInfo.InvariantCulture)));

        return mentions;
    }

    private async Task<RedisResult> RunAsync(Func<IDatabase, Task<RedisResult>> call)
    {
        try
        {
            return await call(_redis.GetDatabase()).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisChannelLog.IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }
    }
}
