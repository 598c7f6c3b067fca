using System.Globalization;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The channel log on Redis, shared by every node of a deployment: per channel a meta hash (epoch,
/// top, era) and a stream whose entry id is the offset. One Lua script per batch of appends of a
/// partition checks idempotency keys, assigns offsets, appends with size trimming, sets TTLs and
/// publishes each publication to its channel's pub/sub channel — atomically, so the offset order
/// is the order every node sees.
/// </summary>
/// <remarks>
/// <para>
/// <b>Batches.</b> Appends to one partition are sent one script call at a time; those that arrive
/// while a call is in flight leave together in the next (Redis's group commit). So a partition's
/// publications are acknowledged — and told to the optional <see cref="IPublicationSink"/> — in
/// offset order, and a busy channel costs one round trip per batch, not per publish.
/// </para>
/// <para>
/// <b>Eras.</b> Redis can go back in time (a restart from an <c>everysec</c> AOF or a snapshot, a
/// failover to an async replica). A node that sees a partition's write counter lower than it saw
/// before, in the same era, moves the partition to a new era; so does a changed server run id when
/// the server's persistence may have lost acknowledged writes (<see cref="RedisRestartCheck"/>).
/// Channels of an older era read as never written and restart in a new epoch: every client that
/// held a position is told to reset, never given a silent gap.
/// </para>
/// </remarks>
public sealed partial class RedisChannelLog : IChannelLog
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly RedisEngineOptions _options;
    private readonly IPublicationSink? _sink;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PartitionWriter[] _writers;
    private readonly EraWatch[] _eras;
    private IRedisOutboxIndex? _outbox;
    private long _rotations;
    private string? _layoutMismatch;
    private int _disposed;

    /// <param name="redis">The connection, shared with the broker.</param>
    /// <param name="options">Layout and limits.</param>
    /// <param name="sink">Told about this log's own appends, in offset order per channel (tests); the broker carries them between nodes.</param>
    /// <param name="time">The node's clock, for publication times, TTLs and idempotency windows.</param>
    /// <param name="logger">Where eras and failures are reported.</param>
    public RedisChannelLog(IConnectionMultiplexer redis, RedisEngineOptions options, IPublicationSink? sink = null, TimeProvider? time = null, ILogger<RedisChannelLog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _options = options;
        _keys = new RedisKeys(options.Prefix, options.Partitions);
        _sink = sink;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _writers = new PartitionWriter[options.Partitions];
        _eras = new EraWatch[options.Partitions];
        for (var i = 0; i < options.Partitions; i++)
        {
            _writers[i] = new PartitionWriter(this, i);
            _eras[i] = new EraWatch();
        }
    }

    internal RedisKeys Keys => _keys;

    /// <summary>The webhook outbox whose subscriptions every append is matched against; none until the engine connects one.</summary>
    internal IRedisOutboxIndex? Outbox
    {
        get => Volatile.Read(ref _outbox);
        set => Volatile.Write(ref _outbox, value);
    }

    /// <summary>Partitions this node moved to a new era because Redis went back in time.</summary>
    public long EraRotations => Interlocked.Read(ref _rotations);

    /// <summary>
    /// Set when the data in Redis was written with another partition count than this node's: an
    /// append would then land in the wrong partition (another era, another write counter), so none
    /// is made and the node reads not ready.
    /// </summary>
    internal string? LayoutMismatch
    {
        get => Volatile.Read(ref _layoutMismatch);
        set => Volatile.Write(ref _layoutMismatch, value);
    }

    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Channel);
        ArgumentNullException.ThrowIfNull(request.Retention);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (LayoutMismatch is { } mismatch)
            return ValueTask.FromException<AppendResult>(new EngineUnavailableException(mismatch));
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<AppendResult>(cancellationToken);

        var append = new PendingAppend(request, cancellationToken)
        {
            Fingerprint = request.IdempotencyKey is null ? string.Empty : Convert.ToHexStringLower(IdempotencyFingerprint.Of(request)),
        };
        _writers[_keys.PartitionOf(request.Channel)].Enqueue(append);
        return new ValueTask<AppendResult>(append.Task);
    }

    public async ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var mode = request.Limit <= 0 ? "s" : request.Reverse ? "r" : "f";
        return await ReadScriptAsync(channel, mode, request.After, Math.Max(0, request.Limit), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return (await ReadScriptAsync(channel, "s", 0, 0, cancellationToken).ConfigureAwait(false)).State;
    }

    public async ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var partition = _keys.PartitionOf(channel);
        await RunAsync(db => db.ScriptEvaluateAsync(RedisScripts.Remove, [_keys.Meta(partition, channel), _keys.Stream(partition, channel)])).ConfigureAwait(false);
    }

    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0 || !_redis.IsConnected || LayoutMismatch is not null)
            return false;
        try
        {
            await _redis.GetDatabase().PingAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        // The connection is the engine's; appends still queued fail as the writers find the log closed.
        Interlocked.Exchange(ref _disposed, 1);
        return ValueTask.CompletedTask;
    }

    private async Task<ReadResult> ReadScriptAsync(string channel, string mode, long after, int limit, CancellationToken cancellationToken)
    {
        var partition = _keys.PartitionOf(channel);
        RedisKey[] keys = [_keys.Era(partition), _keys.WriteCounter(partition), _keys.Meta(partition, channel), _keys.Stream(partition, channel)];
        // A detected rollback moves the partition to a new era; the read is made again in it.
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var sent = Watermark(partition);
            var raw = (RedisResult[])(await RunAsync(db => db.ScriptEvaluateAsync(
                RedisScripts.Read,
                keys,
                [now, mode, after, limit])).ConfigureAwait(false))!;
            var era = (string?)raw[0] ?? string.Empty;
            if (await ObserveAsync(partition, era, (long)raw[1], sent).ConfigureAwait(false) && attempt == 0)
                continue;

            var epoch = (string?)raw[2] ?? string.Empty;
            var state = epoch.Length == 0 ? StreamState.Empty : new StreamState(epoch, (long)raw[3], (long)raw[4], (long)raw[6]);
            var entries = (RedisResult[])raw[5]!;
            var publications = new Publication[entries.Length];
            for (var i = 0; i < entries.Length; i++)
                publications[i] = ReadEntry(channel, epoch, (RedisResult[])entries[i]!);
            return new ReadResult(publications, state);
        }
    }

    /// <summary>A stream entry: <c>[id, [t, time, i, id, f, from, y, type, m, meta, d, data, n, stored n]]</c> (no <c>n</c> in entries from before ordinals).</summary>
    private static Publication ReadEntry(string channel, string epoch, RedisResult[] entry)
    {
        var id = (string)entry[0]!;
        var fields = (RedisResult[])entry[1]!;
        return FromFields(channel, epoch, long.Parse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture), fields);
    }

    private static Publication FromFields(string channel, string epoch, long offset, RedisResult[] fields)
    {
        var from = (string?)fields[5];
        var type = (string?)fields[7];
        var meta = (byte[]?)fields[9];
        var (n, countable) = fields.Length > 13 ? Publication.FromStoredN((long)fields[13]) : (0, false);
        return new Publication
        {
            Channel = channel,
            Offset = offset,
            Epoch = epoch,
            Time = DateTimeOffset.FromUnixTimeMilliseconds((long)fields[1]),
            Id = (string)fields[3]!,
            From = string.IsNullOrEmpty(from) ? null : from,
            Type = string.IsNullOrEmpty(type) ? null : type,
            Meta = meta is { Length: > 0 } ? meta : ReadOnlyMemory<byte>.Empty,
            Data = (byte[]?)fields[11] ?? [],
            N = n,
            Countable = countable,
        };
    }

    /// <summary>Runs a command, turning the failures that mean "Redis cannot be reached" into <see cref="EngineUnavailableException"/>.</summary>
    private async Task<RedisResult> RunAsync(Func<IDatabase, Task<RedisResult>> command)
    {
        try
        {
            return await command(_redis.GetDatabase()).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw new EngineUnavailableException($"Redis is unavailable: {ex.Message}", ex);
        }
    }

    /// <summary>Connection loss, timeouts, and a server still loading its data or not a writable primary.</summary>
    internal static bool IsUnavailable(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
        || (ex is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal)));

    /// <summary>What this node saw of one partition: its era and the highest write counter in it.</summary>
    private sealed class EraWatch
    {
        public readonly Lock Lock = new();
        public string Era = string.Empty;
        public long MaxWriteCounter;
    }
}
