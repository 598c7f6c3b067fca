using Herald.Channels;
using Herald.Engine;
using Herald.Hub;
using Herald.Reading;
using Microsoft.Extensions.Options;

namespace Herald.Receipts;

/// <summary>
/// Receipts, a facet of a channel (docs/protocol.md, "Receipts"): per member, the seen marker (how
/// far others are shown the member read) and the delivered marker (what the member's devices
/// received), kept by the <see cref="IReadStateStore"/>. A subscription that asks for them gets a
/// snapshot of every member's, then diffs: the changed members' markers, conflated per channel to
/// at most one per <see cref="ChannelPolicy.ReceiptsInterval"/>.
/// </summary>
/// <remarks>
/// A change travels to every node following the channel through the broker as a
/// <c>receipts_change</c> event (never shown to clients); each node merges the changes it receives
/// per member (markers only move forward) and sends its own subscribers the merged diff. The store
/// holds the truth, so a resubscribing client always gets a new snapshot: nothing to resume. A
/// channel with more than <see cref="ChannelPolicy.ReceiptsMaxMembers"/> members shows none.
/// </remarks>
public sealed class ReceiptService : IReceiptListener, IAsyncDisposable
{
    /// <summary>The event kind clients receive (and the SSE event name).</summary>
    public const string EventKind = "receipts";

    /// <summary>The event kind of a change between nodes; never delivered to clients.</summary>
    public const string ChangeKind = "receipts_change";

    private readonly IBroker _broker;
    private readonly IReadStateStore _store;
    private readonly HeraldOptions _options;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChannelReceipts> _channels = new(StringComparer.Ordinal);

    public ReceiptService(IBroker broker, ChannelHub hub, IReadStateStore store, IOptions<HeraldOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _broker = broker;
        _store = store;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        hub.AddEventHandler(OnEvent);
        hub.Removed += OnRemoved;
        _timer = _time.CreateTimer(static s => ((ReceiptService)s!).Tick(), this, TickPeriod, TickPeriod);
    }

    internal static TimeSpan TickPeriod { get; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The channel's receipts as the HTTP API answers them; null when the channel has more members than its policy shows.</summary>
    public async ValueTask<IReadOnlyList<MemberReceipt>?> GetAsync(string channel, CancellationToken cancellationToken = default)
    {
        var max = _options.PolicyFor(channel).ReceiptsMaxMembers;
        var receipts = await _store.GetReceiptsAsync(channel, max + 1, cancellationToken).ConfigureAwait(false);
        return receipts.Count > max ? null : receipts;
    }

    /// <summary>Tells every node following <paramref name="channel"/> that <paramref name="user"/>'s seen or delivered marker moved (the caller checked the channel keeps receipts).</summary>
    public ValueTask OnReceiptAsync(string channel, string user, ReadMarker? seen, ReadMarker? delivered, CancellationToken cancellationToken = default) =>
        _broker.PublishEventAsync(new ChannelEvent(channel, ChangeKind, ReceiptJson.Change(user, seen, delivered)), cancellationToken);

    /// <summary>
    /// Starts the receipts of <paramref name="session"/>'s subscription to <paramref name="channel"/>:
    /// the snapshot, then diffs until the subscription ends. A channel without receipts, or with
    /// too many members, is answered with a snapshot that says <c>off</c> and why.
    /// </summary>
    internal async ValueTask AttachAsync(Session session, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_options.KeepsReceipts(channel))
        {
            session.TrySend(Frame(session.Format, channel, ReceiptJson.Off(channel, "disabled")));
            return;
        }

        // Registered before the snapshot is read: a change meanwhile is held and follows it.
        var watcher = new Watcher(session, channel);
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state))
                _channels[channel] = state = new ChannelReceipts(_options.PolicyFor(channel));
            state.Watchers.Add(watcher);
        }

        IReadOnlyList<MemberReceipt>? receipts;
        try
        {
            receipts = await GetAsync(channel, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Remove(watcher);
            throw;
        }

        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state) || !state.Watchers.Contains(watcher))
                return;
            if (receipts is null || state.Off || !session.IsSubscribed(channel))
            {
                state.Watchers.Remove(watcher);
                if (state.Watchers.Count == 0)
                    _channels.Remove(channel);
                if (session.IsSubscribed(channel))
                    session.TrySend(Frame(session.Format, channel, ReceiptJson.Off(channel, "too_many_members")));
                return;
            }

            foreach (var receipt in receipts)
                state.Known.Add(receipt.User);
            session.TrySend(Frame(session.Format, channel, ReceiptJson.Snapshot(channel, receipts)));
            watcher.Ready = true;
            if (watcher.Held is { Count: > 0 } held)
                session.TrySend(Frame(session.Format, channel, ReceiptJson.Diff(channel, held)));
            watcher.Held = null;
        }
    }

    private static ReadOnlyMemory<byte> Frame(WireFormat format, string channel, byte[] payload) =>
        new EncodedEvent(new ChannelEvent(channel, EventKind, payload)).GetBytes(format);

    private void OnRemoved(Subscription subscription)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(subscription.Channel, out var state))
                return;
            state.Watchers.RemoveAll(w => ReferenceEquals(w.Session, subscription.Session));
            if (state.Watchers.Count == 0)
                _channels.Remove(subscription.Channel);
        }
    }

    private void Remove(Watcher watcher)
    {
        lock (_lock)
        {
            if (_channels.TryGetValue(watcher.Channel, out var state) && state.Watchers.Remove(watcher) && state.Watchers.Count == 0)
                _channels.Remove(watcher.Channel);
        }
    }

    private bool OnEvent(ChannelEvent channelEvent)
    {
        if (!string.Equals(channelEvent.Kind, ChangeKind, StringComparison.Ordinal))
            return false;

        var (user, seen, delivered) = ReceiptJson.ReadChange(channelEvent.Payload);
        if (user.Length == 0)
            return true;
        lock (_lock)
        {
            if (!_channels.TryGetValue(channelEvent.Channel, out var state) || state.Off)
                return true;
            if (state.Known.Add(user) && state.Known.Count > state.Policy.ReceiptsMaxMembers)
            {
                // The channel outgrew its receipts: its subscribers are told, and get no more.
                state.Off = true;
                var off = new EncodedEvent(new ChannelEvent(channelEvent.Channel, EventKind, ReceiptJson.Off(channelEvent.Channel, "too_many_members")));
                foreach (var watcher in state.Watchers)
                    watcher.Session.TrySend(off.GetBytes(watcher.Session.Format));
                state.Pending.Clear();
                return true;
            }

            ReceiptJson.Merge(state.Pending, user, seen, delivered);
            state.Dirty = true;
        }

        Flush(channelEvent.Channel);
        return true;
    }

    private void Tick()
    {
        List<string> dirty;
        lock (_lock)
            dirty = [.. _channels.Where(c => c.Value.Dirty).Select(c => c.Key)];
        foreach (var channel in dirty)
            Flush(channel);
    }

    /// <summary>Sends the channel's pending changes to its subscribers: at once after a quiet interval, else when the interval has passed.</summary>
    private void Flush(string channel)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var state) || !state.Dirty || state.Pending.Count == 0)
                return;
            if (state.LastSent != 0 && _time.GetElapsedTime(state.LastSent, now) < state.Policy.ReceiptsInterval)
                return;

            state.Dirty = false;
            state.LastSent = now;
            var diff = new EncodedEvent(new ChannelEvent(channel, EventKind, ReceiptJson.Diff(channel, state.Pending)));
            foreach (var watcher in state.Watchers)
            {
                if (watcher.Ready)
                {
                    watcher.Session.TrySend(diff.GetBytes(watcher.Session.Format));
                    continue;
                }

                watcher.Held ??= new Dictionary<string, ReceiptChange>(StringComparer.Ordinal);
                foreach (var (user, change) in state.Pending)
                    ReceiptJson.Merge(watcher.Held, user, change.Seen, change.Delivered);
            }

            state.Pending.Clear();
        }
    }

    public async ValueTask DisposeAsync() => await _timer.DisposeAsync().ConfigureAwait(false);

    private sealed class ChannelReceipts(ChannelPolicy policy)
    {
        public ChannelPolicy Policy { get; } = policy;

        public List<Watcher> Watchers { get; } = [];

        /// <summary>Changes not sent yet, per member, merged forward.</summary>
        public Dictionary<string, ReceiptChange> Pending { get; } = new(StringComparer.Ordinal);

        /// <summary>The members this node knows of (snapshots and changes), to notice the channel outgrowing its receipts.</summary>
        public HashSet<string> Known { get; } = new(StringComparer.Ordinal);

        public bool Dirty { get; set; }

        public bool Off { get; set; }

        public long LastSent { get; set; }
    }

    private sealed class Watcher(Session session, string channel)
    {
        public Session Session { get; } = session;

        public string Channel { get; } = channel;

        /// <summary>The snapshot was sent: diffs go out as they come.</summary>
        public bool Ready { get; set; }

        /// <summary>Diffs that came before the snapshot was sent; they follow it.</summary>
        public Dictionary<string, ReceiptChange>? Held { get; set; }
    }
}

/// <summary>A member's receipt change: the markers that moved (null: unchanged).</summary>
public readonly record struct ReceiptChange(ReadMarker? Seen, ReadMarker? Delivered);
