using System.Text.Json;
using Herald.Channels;
using Herald.Engine;
using Herald.Hub;

namespace Herald.Presence;

public sealed partial class PresenceService
{
    private static readonly TimeSpan s_countInterval = TimeSpan.FromSeconds(1);
    private readonly Lock _watchLock = new();
    private readonly Dictionary<string, ChannelWatchers> _watchers = new(StringComparer.Ordinal);

    /// <summary>The hub's event hook: presence events are delivered here, per subscriber and mode.</summary>
    private bool OnEvent(ChannelEvent channelEvent)
    {
        var diff = string.Equals(channelEvent.Kind, PresenceEvents.Diff, StringComparison.Ordinal);
        if (!diff && !string.Equals(channelEvent.Kind, PresenceEvents.Count, StringComparison.Ordinal))
            return false;

        var header = DiffHeader.Read(channelEvent.Payload.Span);
        if (diff)
            Polls?.Wake(channelEvent.Channel);
        Watcher[] list;
        lock (_watchLock)
        {
            if (!_watchers.TryGetValue(channelEvent.Channel, out var channel))
                return true;
            channel.Counts = header.Counts;
            channel.CountsDirty = true;
            list = diff ? [.. channel.List] : [];
        }

        if (list.Length > 0)
        {
            var encoded = new EncodedEvent(channelEvent);
            foreach (var watcher in list)
                watcher.Offer(encoded, header);
        }

        return true;
    }

    private void AddWatcher(Watcher watcher)
    {
        lock (_watchLock)
        {
            if (!_watchers.TryGetValue(watcher.Channel, out var channel))
                _watchers[watcher.Channel] = channel = new ChannelWatchers();
            channel.All.Add(watcher);
            if (watcher.Mode == PresenceMode.List)
                channel.List.Add(watcher);
        }
    }

    private void RemoveWatcher(Watcher? watcher)
    {
        if (watcher is null)
            return;
        lock (_watchLock)
        {
            if (!_watchers.TryGetValue(watcher.Channel, out var channel))
                return;
            channel.All.Remove(watcher);
            channel.List.Remove(watcher);
            if (channel.All.Count == 0)
                _watchers.Remove(watcher.Channel);
        }
    }

    /// <summary>Counts are conflated per channel: at most one <c>presence_count</c> a second to its watchers.</summary>
    private void FlushCounts()
    {
        List<(Watcher[] Watchers, EncodedEvent Message)>? sends = null;
        var now = _time.GetTimestamp();
        lock (_watchLock)
        {
            foreach (var (name, channel) in _watchers)
            {
                if (!channel.CountsDirty || (channel.LastCountSent != 0 && _time.GetElapsedTime(channel.LastCountSent, now) < s_countInterval))
                    continue;
                channel.CountsDirty = false;
                channel.LastCountSent = now;
                var message = new EncodedEvent(new ChannelEvent(name, PresenceEvents.Count, PresenceJson.Count(name, channel.Counts)));
                (sends ??= []).Add(([.. channel.All], message));
            }
        }

        foreach (var (watchers, message) in sends ?? [])
        {
            foreach (var watcher in watchers)
                watcher.Send(message);
        }
    }

    /// <summary>Sends the first messages of a watching subscription, then lets live diffs through.</summary>
    private async ValueTask<PresenceMode> StartWatchingAsync(Watcher watcher, PresencePosition? since, ChannelPolicy policy, CancellationToken cancellationToken)
    {
        var channel = watcher.Channel;
        var first = await _store.ReadAsync(channel, null, SnapshotPageSize, cancellationToken).ConfigureAwait(false);
        var mode = watcher.Mode;
        if (mode == PresenceMode.List && first.Counts.Users > policy.PresenceListLimit)
        {
            mode = PresenceMode.Count;
            watcher.Demote();
            lock (_watchLock)
            {
                if (_watchers.TryGetValue(channel, out var list))
                    list.List.Remove(watcher);
            }
        }

        if (mode == PresenceMode.Count)
        {
            watcher.Send(Message(channel, "presence_state", PresenceJson.State(channel, mode, false, first.Epoch, first.Seq, first.Counts)));
            watcher.Release(first.Epoch, first.Seq);
            return mode;
        }

        if (since is { } position && await _store.ReadDiffsAsync(channel, position.Epoch, position.Seq, cancellationToken).ConfigureAwait(false) is { } missed)
        {
            watcher.Send(Message(channel, "presence_state", PresenceJson.State(channel, mode, true, position.Epoch, position.Seq, first.Counts)));
            watcher.Release(position.Epoch, SendMissed(watcher, missed, position.Seq));
            return mode;
        }

        await SendSnapshotAsync(watcher, first, cancellationToken).ConfigureAwait(false);
        return mode;
    }

    /// <summary><c>presence_state</c> with <c>recovered:false</c>, the snapshot's pages, then the diffs held meanwhile.</summary>
    private async ValueTask SendSnapshotAsync(Watcher watcher, PresencePage first, CancellationToken cancellationToken)
    {
        var channel = watcher.Channel;
        watcher.Send(Message(channel, "presence_state", PresenceJson.State(channel, PresenceMode.List, false, first.Epoch, first.Seq, first.Counts)));
        var page = first;
        while (true)
        {
            watcher.Send(Message(channel, "presence_snapshot", PresenceJson.Snapshot(channel, page with { Epoch = first.Epoch, Seq = first.Seq }, page.Next is null)));
            if (page.Next is null)
                break;
            page = await _store.ReadAsync(channel, page.Next, SnapshotPageSize, cancellationToken).ConfigureAwait(false);
        }

        watcher.Release(first.Epoch, first.Seq);
    }

    /// <summary>A watcher saw a gap (a lost broker message, a new epoch): the missed diffs, or a new snapshot.</summary>
    private async Task ResyncAsync(Watcher watcher, string epoch, long seq)
    {
        try
        {
            var channel = watcher.Channel;
            if (await _store.ReadDiffsAsync(channel, epoch, seq).ConfigureAwait(false) is { } missed)
            {
                watcher.Release(epoch, SendMissed(watcher, missed, seq));
                return;
            }

            await SendSnapshotAsync(watcher, await _store.ReadAsync(channel, null, SnapshotPageSize).ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The subscriber cannot be kept consistent: it resumes instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ResyncFailed(_logger, watcher.Channel, ex);
            _ = watcher.Session.CloseAsync(DisconnectReason.InsufficientState);
        }
    }

    /// <summary>Sends the diffs that follow <paramref name="seq"/> in order; the position they reach.</summary>
    private static long SendMissed(Watcher watcher, IReadOnlyList<ReadOnlyMemory<byte>> diffs, long seq)
    {
        foreach (var diff in diffs)
        {
            var header = DiffHeader.Read(diff.Span);
            if (header.From != seq)
                continue;
            watcher.Send(Message(watcher.Channel, PresenceEvents.Diff, diff));
            seq = header.To;
        }

        return seq;
    }

    private static EncodedEvent Message(string channel, string kind, ReadOnlyMemory<byte> payload) => new(new ChannelEvent(channel, kind, payload));

    private sealed class ChannelWatchers
    {
        public List<Watcher> All { get; } = [];

        public List<Watcher> List { get; } = [];

        public PresenceCounts Counts { get; set; }

        public bool CountsDirty { get; set; }

        public long LastCountSent { get; set; }
    }

    /// <summary>
    /// One subscription receiving presence. Diffs are sent in number order with no gap: those that
    /// arrive while the first messages are read are held, those already covered are dropped, and a
    /// gap starts a resync.
    /// </summary>
    private sealed class Watcher(Membership membership, PresenceService service)
    {
        private readonly Lock _lock = new();
        private List<(EncodedEvent Message, DiffHeader Header)>? _held = [];
        private string _epoch = string.Empty;
        private long _seq;
        private bool _stopped;

        public Session Session => membership.Session;

        public string Channel => membership.Channel;

        public PresenceMode Mode { get; private set; } = membership.Mode;

        public void Demote() => Mode = PresenceMode.Count;

        public void Stop()
        {
            lock (_lock)
            {
                _stopped = true;
                _held = null;
            }
        }

        public void Send(EncodedEvent message)
        {
            lock (_lock)
            {
                if (!_stopped)
                    Session.EnqueueLive(new OutboundMessage(message.GetBytes(Session.Format)), Channel);
            }
        }

        /// <summary>A live diff.</summary>
        public void Offer(EncodedEvent message, DiffHeader header)
        {
            lock (_lock)
            {
                if (_stopped || Mode != PresenceMode.List)
                    return;
                if (_held is not null)
                {
                    _held.Add((message, header));
                    return;
                }

                Apply(message, header);
            }
        }

        /// <summary>The first messages are sent, up to (<paramref name="epoch"/>, <paramref name="seq"/>): the held diffs follow.</summary>
        public void Release(string epoch, long seq)
        {
            lock (_lock)
            {
                if (_stopped)
                    return;
                _epoch = epoch;
                _seq = seq;
                var held = _held ?? [];
                _held = null;
                foreach (var (message, header) in held)
                {
                    if (_held is not null)
                        _held.Add((message, header));
                    else
                        Apply(message, header);
                }
            }
        }

        /// <summary>Under the lock, while live.</summary>
        private void Apply(EncodedEvent message, DiffHeader header)
        {
            var sameEpoch = string.Equals(header.Epoch, _epoch, StringComparison.Ordinal);
            if (sameEpoch && header.To <= _seq)
                return;
            if (sameEpoch && header.From == _seq)
            {
                Session.EnqueueLive(new OutboundMessage(message.GetBytes(Session.Format)), Channel);
                _seq = header.To;
                return;
            }

            // A gap or a new epoch: hold what comes next and read what is missing.
            _held = [(message, header)];
            _ = service.ResyncAsync(this, _epoch, _seq);
        }
    }

    /// <summary>The members of a presence event a node routes by: its position and counts.</summary>
    private readonly record struct DiffHeader(string Epoch, long From, long To, PresenceCounts Counts)
    {
        public static DiffHeader Read(ReadOnlySpan<byte> payload)
        {
            var reader = new Utf8JsonReader(payload);
            string epoch = string.Empty;
            long from = 0, to = 0;
            int users = 0, connections = 0;
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("epoch"u8))
                {
                    reader.Read();
                    epoch = reader.GetString() ?? string.Empty;
                }
                else if (reader.ValueTextEquals("from"u8))
                {
                    reader.Read();
                    from = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("to"u8))
                {
                    reader.Read();
                    to = reader.GetInt64();
                }
                else if (reader.ValueTextEquals("users"u8))
                {
                    reader.Read();
                    users = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("connections"u8))
                {
                    reader.Read();
                    connections = reader.GetInt32();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return new DiffHeader(epoch, from, to, new PresenceCounts(users, connections));
        }
    }
}
