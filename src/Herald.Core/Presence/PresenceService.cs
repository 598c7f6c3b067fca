using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Presence;

/// <summary>
/// A node's side of presence: which of its sessions are present where, their changes coalesced per
/// channel and applied to the <see cref="IPresenceStore"/>, the store's diffs delivered to the
/// local subscribers that asked for them, and the node's lease kept alive.
/// </summary>
/// <remarks>
/// <para>
/// <b>Coalescing.</b> A channel's first change goes to the store at once; changes arriving while
/// that call runs, or within <see cref="ChannelPolicy.PresenceDiffInterval"/> after it (a second in
/// rooms of <see cref="ChannelPolicy.PresenceLargeRoom"/> connections), go together in the next.
/// Changes of one channel are applied in the order they happened, one store call at a time.
/// </para>
/// <para>
/// <b>Leaving.</b> A subscription leaves presence when it leaves the hub: at once for an
/// unsubscribe or a client's normal WebSocket close, after <see cref="ChannelPolicy.PresenceLeaveGrace"/>
/// otherwise (a dropped connection, an SSE or stream response that ended), so a reconnect within
/// the grace makes no leave/join pair.
/// </para>
/// </remarks>
public sealed partial class PresenceService : IAsyncDisposable
{
    /// <summary>Snapshot pages are this many members.</summary>
    public const int SnapshotPageSize = 200;

    private readonly IPresenceStore _store;
    private readonly ChannelHub _hub;
    private readonly HeraldOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;

    // An outage fails every round and every batch: one line per interval says so, with the count held back.
    private readonly Diagnostics.LogThrottle _failureLog = new(TimeSpan.FromSeconds(10));
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Session, string Channel), Membership> _members = [];
    private readonly Dictionary<string, Batch> _batches = new(StringComparer.Ordinal);
    private long _nextMaintenance;
    private int _maintaining;
    private int _disposed;

    public PresenceService(IPresenceStore store, ChannelHub hub, IOptions<HeraldOptions> options, TimeProvider? time = null, ILogger<PresenceService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _hub = hub;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        NodeId = Guid.CreateVersion7().ToString("N");
        hub.AddEventHandler(OnEvent);
        hub.Removed += OnRemoved;
        _timer = _time.CreateTimer(static s => ((PresenceService)s!).Tick(), this, TickPeriod, TickPeriod);
    }

    /// <summary>This node's id in the store: its connections are <c>{NodeId}/{session}</c>, swept when its lease expires.</summary>
    public string NodeId { get; }

    public IPresenceStore Store => _store;

    /// <summary>
    /// Told of the transitions this node's store calls make (outbound webhooks: <c>channel.occupied</c>
    /// and the rest). Its call is awaited after the changes' waiters are released and before the
    /// channel's next store call, so a channel's transitions reach it in order; skipped while it is
    /// not <see cref="IPresenceObserver.IsActive"/>.
    /// </summary>
    public IPresenceObserver? Observer { get; init; }

    /// <summary>The resolution of count conflation and of leases and graces.</summary>
    internal static TimeSpan TickPeriod { get; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Maintenance (lease renewal, due leaves) runs this often: a fifth of the default lease.</summary>
    internal static TimeSpan MaintenancePeriod { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The most presence <paramref name="caller"/> gets of <paramref name="channel"/> when asking for <paramref name="requested"/>.</summary>
    public PresenceMode Allowed(string channel, Caller caller, PresenceMode requested)
    {
        var cap = _options.PolicyFor(channel).Presence;
        if (cap == PresenceMode.Off || requested == PresenceMode.Off)
            return PresenceMode.Off;
        if (ChannelAccess.Check(_options, channel, caller, ChannelOperation.Presence) is not null)
            return PresenceMode.Off;
        return requested > cap ? cap : requested;
    }

    /// <summary>
    /// Makes the session present on a channel it just subscribed, and starts sending it what
    /// <paramref name="mode"/> asks for: a <c>presence_state</c> message, then (for <c>list</c>) the
    /// diffs after <paramref name="since"/> or a snapshot, then live diffs and counts.
    /// </summary>
    /// <returns>The mode granted (a list request on a room above the list limit gets <c>count</c>).</returns>
    /// <param name="announce">The client asked for presence explicitly: a <c>presence_state</c> tells it the mode granted, even <c>off</c> or <c>enter</c>.</param>
    public async ValueTask<PresenceMode> AttachAsync(Session session, string channel, PresenceMode mode, PresencePosition? since, bool announce = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(channel);
        if (mode == PresenceMode.Off)
        {
            if (announce)
                session.TrySend(Message(channel, "presence_state", PresenceJson.State(channel, PresenceMode.Off, false, string.Empty, 0, default)).GetBytes(session.Format));
            return mode;
        }

        var policy = _options.PolicyFor(channel);
        var membership = new Membership(session, channel, $"{NodeId}/{session.Id}", mode);
        lock (_lock)
        {
            if (!_members.TryAdd((session.Id, channel), membership))
                throw new InvalidOperationException($"The session is already present on '{channel}'.");
        }

        if (!session.IsSubscribed(channel))
        {
            // The subscription ended before presence attached: nothing to join.
            Forget(membership);
            return PresenceMode.Off;
        }

        var watcher = mode >= PresenceMode.Count ? membership.Watcher = new Watcher(membership, this) : null;
        if (watcher is not null)
            AddWatcher(watcher);

        var joined = Enqueue(channel, new PresenceChange(PresenceChangeKind.Join, membership.Connection, session.User, session.UserInfo), policy);
        if (watcher is null && !announce)
            return mode;

        // The first message then counts this session in: its own join is applied.
        await joined.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (watcher is null)
        {
            var page = await _store.ReadAsync(channel, null, 1, cancellationToken).ConfigureAwait(false);
            session.TrySend(Message(channel, "presence_state", PresenceJson.State(channel, mode, false, page.Epoch, page.Seq, page.Counts)).GetBytes(session.Format));
            return mode;
        }

        try
        {
            return await StartWatchingAsync(watcher, since, policy, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            watcher.Stop();
            throw;
        }
    }

    /// <summary>Sets the session's status on the channel (the <c>status</c> op): an <c>update</c> diff for everyone listing it.</summary>
    public PresenceStatusResult SetStatus(Session session, string channel, string? status)
    {
        ArgumentNullException.ThrowIfNull(session);
        var policy = _options.PolicyFor(channel);
        if (status is not null && System.Text.Encoding.UTF8.GetByteCount(status) > policy.MaxPresenceStatusBytes)
            return PresenceStatusResult.TooLarge;
        Membership? membership;
        lock (_lock)
            _members.TryGetValue((session.Id, channel), out membership);
        if (membership is null || session.User is null)
            return PresenceStatusResult.NotPresent;

        var now = _time.GetTimestamp();
        if (membership.LastStatus != 0 && _time.GetElapsedTime(membership.LastStatus, now) < TimeSpan.FromSeconds(1))
            return PresenceStatusResult.RateLimited;
        membership.LastStatus = now;
        Enqueue(channel, new PresenceChange(PresenceChangeKind.Status, membership.Connection, session.User, Status: status), policy);
        return PresenceStatusResult.Set;
    }

    private void OnRemoved(Subscription subscription)
    {
        var session = subscription.Session;
        Membership? membership;
        lock (_lock)
        {
            if (!_members.Remove((session.Id, subscription.Channel), out membership))
                return;
        }

        membership.Watcher?.Stop();
        RemoveWatcher(membership.Watcher);
        var policy = _options.PolicyFor(subscription.Channel);

        // An unsubscribe (the session is open) or a client's normal WebSocket close leaves at once;
        // a drop, or the end of an SSE/stream response, leaves after the grace.
        var reason = session.CloseReason;
        var immediate = reason is null || (reason == DisconnectReason.Normal && session.TransportName == "ws");
        DateTimeOffset? leaveAt = immediate ? null : _time.GetUtcNow() + policy.PresenceLeaveGrace;
        Enqueue(subscription.Channel, new PresenceChange(PresenceChangeKind.Leave, membership.Connection, session.User, LeaveAt: leaveAt), policy);
    }

    private void Forget(Membership membership)
    {
        lock (_lock)
            _members.Remove((membership.Session.Id, membership.Channel));
    }

    /// <summary>Queues a change; the channel's batch goes to the store at once or after its interval.</summary>
    /// <returns>Completes once the store call that carried the change ended (applied, or failed and queued again).</returns>
    internal Task Enqueue(string channel, PresenceChange change, ChannelPolicy policy)
    {
        Task applied;
        bool start;
        TimeSpan delay;
        Batch batch;
        lock (_lock)
        {
            if (!_batches.TryGetValue(channel, out batch!))
                _batches[channel] = batch = new Batch(channel, policy);
            batch.Changes.Add(change);
            batch.Applied ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            applied = batch.Applied.Task;
            start = !batch.Running;
            batch.Running = true;
            delay = start ? Remaining(batch) : TimeSpan.Zero;
        }

        if (start)
            _ = FlushAfterAsync(batch, delay);
        return applied;
    }

    private TimeSpan Remaining(Batch batch)
    {
        var left = batch.NextAllowed - _time.GetTimestamp();
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(left / (double)_time.TimestampFrequency);
    }

    private async Task FlushAfterAsync(Batch batch, TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay, _time).ConfigureAwait(false);
        else
            await Task.Yield();

        while (true)
        {
            PresenceChange[] changes;
            TaskCompletionSource? applied;
            lock (_lock)
            {
                changes = [.. batch.Changes];
                batch.Changes.Clear();
                applied = batch.Applied;
                batch.Applied = null;
            }

            var interval = batch.Policy.PresenceDiffInterval;
            PresenceTransition? transition = null;
            try
            {
                var result = await _store.ApplyAsync(batch.Channel, changes, Limits(batch.Policy)).ConfigureAwait(false);
                transition = result.Transition;
                if (result.Counts.Connections >= batch.Policy.PresenceLargeRoom)
                    interval = TimeSpan.FromSeconds(1);
            }
#pragma warning disable CA1031 // The store is unreachable: the changes wait and are tried again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (_failureLog.TryEnter(out var held))
                    Log.ApplyFailed(_logger, batch.Channel, changes.Length, held, ex is Engine.EngineUnavailableException ? null : ex, ex.Message);
                lock (_lock)
                    batch.Changes.InsertRange(0, changes);
                interval = TimeSpan.FromSeconds(1);
            }

            applied?.TrySetResult();
            if (transition is not null)
                await ObserveAsync([transition]).ConfigureAwait(false);
            lock (_lock)
            {
                batch.NextAllowed = _time.GetTimestamp() + (long)(interval.TotalSeconds * _time.TimestampFrequency);
                if (batch.Changes.Count == 0 || Volatile.Read(ref _disposed) != 0)
                {
                    // Kept (with its NextAllowed) so the next change waits out the interval; idle
                    // batches are dropped by the tick.
                    batch.Running = false;
                    return;
                }
            }

            await Task.Delay(interval, _time).ConfigureAwait(false);
        }
    }

    internal PresenceLimits Limits(ChannelPolicy policy) => new(policy.PresenceResumeDiffs, _options.Node.PresenceLease);

    private void Tick()
    {
        FlushCounts();
        DropIdleBatches();
        var now = _time.GetTimestamp();
        if (now < Volatile.Read(ref _nextMaintenance) || Interlocked.Exchange(ref _maintaining, 1) != 0)
            return;
        Volatile.Write(ref _nextMaintenance, now + (long)(MaintenancePeriod.TotalSeconds * _time.TimestampFrequency));
        _ = MaintainAsync();
    }

    /// <summary>Batches whose interval ended with nothing queued: the next change goes at once anyway.</summary>
    private void DropIdleBatches()
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            List<string>? idle = null;
            foreach (var (channel, batch) in _batches)
            {
                if (!batch.Running && batch.Changes.Count == 0 && batch.NextAllowed <= now)
                    (idle ??= []).Add(channel);
            }

            foreach (var channel in idle ?? [])
                _batches.Remove(channel);
        }
    }

    private async Task MaintainAsync()
    {
        try
        {
            var maintained = await _store.MaintainAsync(NodeId, PresenceLimits.Default with { NodeLease = _options.Node.PresenceLease }).ConfigureAwait(false);
            if (maintained.Transitions.Count > 0)
                await ObserveAsync(maintained.Transitions).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Tried again on the next tick.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (_failureLog.TryEnter(out var held))
                Log.MaintenanceFailed(_logger, held, ex is Engine.EngineUnavailableException ? null : ex, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _maintaining, 0);
        }
    }

    /// <summary>Hands transitions to the observer, if it wants any; whatever it does, presence goes on.</summary>
    private async ValueTask ObserveAsync(IReadOnlyList<PresenceTransition> transitions)
    {
        if (Observer is not { IsActive: true } observer)
            return;
        try
        {
            await observer.OnTransitionsAsync(transitions).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // An observer must not throw; if one does, the channel's batches must still run.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (_failureLog.TryEnter(out var held))
                Log.ObserverFailed(_logger, transitions[0].Channel, held, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _timer.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Batch(string channel, ChannelPolicy policy)
    {
        public string Channel { get; } = channel;

        public ChannelPolicy Policy { get; } = policy;

        public List<PresenceChange> Changes { get; } = [];

        /// <summary>A flush is scheduled or running; changes queued meanwhile go with the next call.</summary>
        public bool Running { get; set; }

        /// <summary>Completed when the changes queued now have been through a store call.</summary>
        public TaskCompletionSource? Applied { get; set; }

        /// <summary>Timestamp before which the next store call waits (the diff interval).</summary>
        public long NextAllowed { get; set; }
    }

    private sealed class Membership(Session session, string channel, string connection, PresenceMode mode)
    {
        public Session Session { get; } = session;

        public string Channel { get; } = channel;

        public string Connection { get; } = connection;

        public PresenceMode Mode { get; } = mode;

        public Watcher? Watcher { get; set; }

        public long LastStatus { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2300, Level = LogLevel.Warning, EventName = "PresenceApplyFailed",
            Message = "Applying {Count} presence changes of channel '{Channel}' failed ({Error}); they are tried again in a second. ({Held} more presence failures since the last such line.)")]
        public static partial void ApplyFailed(ILogger logger, string channel, int count, long held, Exception? exception, string error);

        [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, EventName = "PresenceMaintenanceFailed",
            Message = "Presence maintenance (node lease, due leaves) failed ({Error}); it is tried again in a second. ({Held} more presence failures since the last such line.)")]
        public static partial void MaintenanceFailed(ILogger logger, long held, Exception? exception, string error);

        [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, EventName = "PresenceResyncFailed",
            Message = "Re-reading the presence of channel '{Channel}' for a subscriber failed; its session is closed so it resumes.")]
        public static partial void ResyncFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 2303, Level = LogLevel.Warning, EventName = "PresenceObserverFailed",
            Message = "The presence observer failed on a transition of channel '{Channel}'; presence goes on. ({Held} more presence failures since the last such line.)")]
        public static partial void ObserverFailed(ILogger logger, string channel, long held, Exception exception);
    }
}

/// <summary>A presence position a client resumes from: the epoch and the last diff number it applied.</summary>
public readonly record struct PresencePosition(string Epoch, long Seq);

public enum PresenceStatusResult
{
    Set,
    NotPresent,
    TooLarge,
    RateLimited,
}
