using Herald.Engine;
using Herald.Webhooks.Outbound;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Webhook subscriptions and the outbox on Redis, shared by every node. The append script writes
/// an outbox entry per matching subscription into its partition's stream in the same step as the
/// publication (<see cref="RedisScripts.Append"/>); this store tells it which subscriptions match
/// (<see cref="IRedisOutboxIndex"/>), turns entries into deliveries (one atomic script per batch,
/// in the partition's <c>workers</c> consumer group), and leases the deliveries a node attempts.
/// </summary>
/// <remarks>
/// <para>
/// <b>Subscriptions.</b> A hash of JSON documents. Every change writes a new version into every
/// partition's <c>subv</c> key in the same script, so from that moment an append matched against
/// older subscriptions is refused as stale, reloaded and matched again — on every node — and the
/// change is announced on pub/sub so idle nodes reload (and restart their delivery lanes) at once.
/// </para>
/// <para>
/// <b>At least once.</b> A delivery exists exactly when its publication was committed (the entry is
/// written by the append script; making it a delivery is one atomic script). An attempt's outcome is
/// recorded after the receiver answered, so a node killed in between leaves the delivery pending
/// under its lease; when the lease runs out another node sends it again with the same
/// <c>webhook-id</c>. A receiver may therefore see a <c>webhook-id</c> twice, never a delivery lost.
/// </para>
/// </remarks>
internal sealed partial class RedisWebhookStore
    : IWebhookSubscriptionStore, IWebhookOutbox, IRedisOutboxIndex, IPublicationSink, IAsyncDisposable
{
    private const string Group = "workers";

    [ThreadStatic] private static List<WebhookSubscription>? t_matches;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly RedisWebhookKeys _w;
    private readonly RedisKey[] _writeKeys;
    private readonly RedisKey[] _outboxKeys;
    private readonly OutboundWebhookOptions _options;
    private readonly OutboxSignal _signal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _leaseMs;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _loadLock = new();
    private readonly Action<RedisChannel, RedisValue> _onChanged;
    private readonly EventHandler<ConnectionFailedEventArgs> _onRestored;
    private volatile Loaded _loaded = Loaded.None;
    private long _loadsIssued;
    private long _loadApplied;
    private int _disposed;

    /// <param name="redis">The engine's connection.</param>
    /// <param name="options">Layout (prefix, partitions) and <see cref="RedisEngineOptions.WebhookLease"/>.</param>
    /// <param name="webhooks">Retry schedule and retention.</param>
    /// <param name="signal">Wakes this node's delivery worker.</param>
    /// <param name="time">The node's clock (times stored and compared are the callers').</param>
    /// <param name="logger">Where failures of the background work are reported.</param>
    public RedisWebhookStore(IConnectionMultiplexer redis, RedisEngineOptions options, OutboundWebhookOptions webhooks, OutboxSignal signal, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _keys = new RedisKeys(options.Prefix, options.Partitions);
        _w = new RedisWebhookKeys(options.Prefix);
        _options = webhooks;
        _signal = signal;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _leaseMs = (long)options.WebhookLease.TotalMilliseconds;
        _writeKeys = new RedisKey[2 + options.Partitions];
        _writeKeys[0] = _w.Subscriptions;
        _writeKeys[1] = _w.Version;
        _outboxKeys = new RedisKey[options.Partitions];
        for (var i = 0; i < options.Partitions; i++)
        {
            _writeKeys[2 + i] = _keys.SubscriptionVersion(i);
            _outboxKeys[i] = _keys.Outbox(i);
        }

        _dirty = new int[options.Partitions];
        NodeId = Environment.MachineName + "-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Epochs.New();

        _onChanged = (_, message) => OnChanged(message);
        _onRestored = (_, _) => OnRestored();
        _redis.ConnectionRestored += _onRestored;
        _ = StartAsync();
        _pumpLoop = Task.Run(PumpLoopAsync);
        _leaseLoop = Task.Run(LeaseLoopAsync);
    }

    /// <summary>This node's name in the consumer groups and on its leases: unique per process and store.</summary>
    public string NodeId { get; }

    public RedisOutboxSnapshot Current => _loaded.Outbox;

    public WebhookRoutes Routes => _loaded.Routes;

    /// <summary>
    /// Reads the subscriptions and their version. A read is numbered and queued under one lock, so
    /// the numbers follow the order Redis answers in (one connection); an answer older than the last
    /// applied is dropped, and the snapshot never goes back to an older version.
    /// </summary>
    public async Task ReloadAsync()
    {
        long ticket;
        Task<RedisResult> reading;
        lock (_loadLock)
        {
            ticket = ++_loadsIssued;
            reading = Db.ScriptEvaluateAsync(RedisWebhookScripts.LoadSubscriptions, [_w.Subscriptions, _w.Version]);
        }

        var raw = (RedisResult[])(await reading.ConfigureAwait(false))!;
        var version = (string?)raw[0] ?? string.Empty;
        var subscriptions = ParseAll((RedisResult[])raw[1]!);
        bool changed;
        lock (_loadLock)
        {
            if (ticket <= _loadApplied)
                return;
            _loadApplied = ticket;
            changed = !string.Equals(version, _loaded.Version, StringComparison.Ordinal);
            _loaded = new Loaded(version, subscriptions);
        }

        if (changed)
            _signal.SubscriptionsChanged();
    }

    /// <summary>
    /// Told about this node's own appends before each is acknowledged: a publication that matched a
    /// subscription marks its partition, so this node makes the deliveries at once (the pump) and
    /// every read of the outbox here sees them once the publish is acknowledged.
    /// </summary>
    public void OnPublished(Publication publication)
    {
        var index = _loaded.Routes.Publications;
        if (index.Count == 0)
            return;
        var matches = t_matches ??= [];
        matches.Clear();
        index.Match(publication.Channel, matches);
        if (matches.Count == 0)
            return;
        matches.Clear();
        MarkDirty(_keys.PartitionOf(publication.Channel), wake: true);
    }

    public async ValueTask<bool> CreateAsync(WebhookSubscription subscription, int maxSubscriptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var done = await WriteSubscriptionAsync("c", subscription.Id, Serialize(subscription), maxSubscriptions).ConfigureAwait(false);
        if (done != 1)
            return false;
        await ChangedAsync().ConfigureAwait(false);
        return true;
    }

    public async ValueTask<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default)
    {
        var all = await Db.HashGetAllAsync(_w.Subscriptions).ConfigureAwait(false);
        return [.. all.Select(entry => Parse(entry.Value!)).OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)];
    }

    public async ValueTask<WebhookSubscription?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var json = await Db.HashGetAsync(_w.Subscriptions, id).ConfigureAwait(false);
        return json.IsNull ? null : Parse(json!);
    }

    public async ValueTask<WebhookSubscription?> UpdateAsync(string id, SubscriptionPatch patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var updated = await ChangeAsync(id, current => patch.ApplyTo(current, _time.GetUtcNow())).ConfigureAwait(false);
        if (updated is not null)
            _signal.Queued(id);
        return updated;
    }

    public async ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        if (await WriteSubscriptionAsync("d", id, string.Empty, string.Empty).ConfigureAwait(false) != 1)
            return false;
        await ChangedAsync().ConfigureAwait(false);

        // The subscription is gone, so no new delivery is made for it; its deliveries go 1,000 per
        // call, so deleting one with a long backlog never holds Redis up for long.
        const int Batch = 1000;
        RedisKey[] keys = [_w.All, _w.SubscriptionAll(id), _w.Due(id), _w.Pending(id)];
        while ((long)(await Db.ScriptEvaluateAsync(RedisWebhookScripts.DeleteDeliveries, keys, [_w.Prefix, Batch]).ConfigureAwait(false)) == Batch)
        {
        }

        lock (_held)
        {
            foreach (var delivery in _held.Where(h => h.Value.Subscription == id).Select(h => h.Key).ToList())
                _held.Remove(delivery);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _redis.ConnectionRestored -= _onRestored;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_pumpLoop, _leaseLoop).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Shutting down: whatever the loops ended with was logged by them.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        // Deliveries taken and not attempted go back now, instead of after the lease. 2 s: a
        // shutdown must not wait long on a Redis that is gone; the lease gives them back anyway.
        try
        {
            await ReleaseLeasesAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await _redis.GetSubscriber().UnsubscribeAsync(_w.Changed, _onChanged).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The connection may be gone already (a node dying); the leases run out by themselves.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisWebhookLog.ReleaseFailed(_logger, ex);
        }

        _stopping.Dispose();
    }

    private IDatabase Db => _redis.GetDatabase();

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private async Task StartAsync()
    {
        try
        {
            await _redis.GetSubscriber().SubscribeAsync(_w.Changed, _onChanged).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Redis may be down at start; the client library subscribes again when it connects.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisWebhookLog.ReloadFailed(_logger, ex);
        }

        await ReloadQuietlyAsync().ConfigureAwait(false);
    }

    /// <summary>Another node changed the subscriptions (our own changes are reloaded where they are made).</summary>
    private void OnChanged(RedisValue message)
    {
        var text = (string?)message;
        if (text is not null && text.StartsWith(NodeId + "\n", StringComparison.Ordinal))
            return;
        _ = ReloadQuietlyAsync();
    }

    /// <summary>Messages published while the connection was down are lost: reload, and look for outbox entries at once.</summary>
    private void OnRestored()
    {
        _ = ReloadQuietlyAsync();
        Volatile.Write(ref _nextBacklog, 0);
        _wake.Set();
    }

    private async Task ReloadQuietlyAsync()
    {
        try
        {
            await ReloadAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The next stale answer, change message or reconnect reloads again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisWebhookLog.ReloadFailed(_logger, ex);
        }
    }

    /// <summary>After this node changed the subscriptions: its own snapshot and delivery lanes follow at once.</summary>
    private async Task ChangedAsync()
    {
        try
        {
            await ReloadAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The change is stored; a stale answer reloads before the next append anyway.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisWebhookLog.ReloadFailed(_logger, ex);
            _signal.SubscriptionsChanged();
        }
    }

    /// <summary>Read, change, write back unless another node wrote in between (then again).</summary>
    private async Task<WebhookSubscription?> ChangeAsync(string id, Func<WebhookSubscription, WebhookSubscription?> change)
    {
        // 16: a subscription changed by several nodes at the same instant settles in a round or two.
        for (var attempt = 0; attempt < 16; attempt++)
        {
            var json = await Db.HashGetAsync(_w.Subscriptions, id).ConfigureAwait(false);
            if (json.IsNull)
                return null;
            var current = Parse(json!);
            if (change(current) is not { } updated)
                return current;
            var done = await WriteSubscriptionAsync("u", id, Serialize(updated), json).ConfigureAwait(false);
            if (done == 0)
                return null;
            if (done == 1)
            {
                await ChangedAsync().ConfigureAwait(false);
                return updated;
            }
        }

        throw new InvalidOperationException($"Webhook subscription {id} kept changing while it was being updated; try again.");
    }

    private async Task<long> WriteSubscriptionAsync(string op, string id, string json, RedisValue argument)
    {
        var version = Guid.NewGuid().ToString("N");
        return (long)await Db.ScriptEvaluateAsync(
            RedisWebhookScripts.WriteSubscription,
            _writeKeys,
            [op, id, json, argument, version, _w.ChangedName, NodeId + "\n" + version]).ConfigureAwait(false);
    }

    /// <summary>The subscriptions as one version holds them, and the matcher the append script is given.</summary>
    private sealed class Loaded
    {
        public Loaded(string version, IReadOnlyCollection<WebhookSubscription> subscriptions)
        {
            Version = version;
            Routes = new WebhookRoutes(subscriptions);
            Outbox = new RedisOutboxSnapshot(version, Match);
            Enabled = [.. subscriptions.Where(s => s.Enabled).Select(s => s.Id)];
        }

        public static Loaded None { get; } = new(string.Empty, []);

        public string Version { get; }

        /// <summary>The enabled subscriptions by event type; the append script is given the publications' matches.</summary>
        public WebhookRoutes Routes { get; }

        /// <summary>The ids of the enabled subscriptions: the ones with delivery lanes.</summary>
        public string[] Enabled { get; }

        public RedisOutboxSnapshot Outbox { get; }

        private string[] Match(string channel)
        {
            var index = Routes.Publications;
            if (index.Count == 0)
                return [];
            var matches = t_matches ??= [];
            matches.Clear();
            index.Match(channel, matches);
            if (matches.Count == 0)
                return [];
            var ids = new string[matches.Count];
            for (var i = 0; i < ids.Length; i++)
                ids[i] = matches[i].Id;
            matches.Clear();
            return ids;
        }
    }
}
