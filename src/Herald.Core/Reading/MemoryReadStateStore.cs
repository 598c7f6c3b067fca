using System.Collections.Concurrent;
using Herald.Engine;

namespace Herald.Reading;

/// <summary>Read markers, receipts and mentions in process memory: the memory engine's store, and the model every other store is checked against.</summary>
public sealed class MemoryReadStateStore : IReadStateStore
{
    private readonly ConcurrentDictionary<string, Dictionary<string, Entry>> _users = new(StringComparer.Ordinal);

    /// <summary>Per channel, the users with an entry for it.</summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _members = new(StringComparer.Ordinal);

    public ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(marker);
        var entries = EntriesOf(user);
        lock (entries)
        {
            var entry = GetOrAdd(entries, channel, user);
            if (write == MarkerWrite.ReadAndSeen)
                return ValueTask.FromResult(SetReadAndSeen(entry, marker));

            var stored = write switch
            {
                MarkerWrite.Seen => entry.Seen,
                MarkerWrite.Delivered => entry.Delivered,
                _ => entry.Marker,
            };
            if (!ReadMarkers.Advances(stored, marker, write == MarkerWrite.ReadBackward))
                return ValueTask.FromResult(new MarkerUpdate(stored!, Changed: false));

            switch (write)
            {
                case MarkerWrite.Seen:
                    entry.Seen = marker;
                    break;
                case MarkerWrite.Delivered:
                    entry.Delivered = marker;
                    break;
                default:
                    entry.Marker = marker;
                    entry.Mentions = ReadMarkers.After(marker, entry.Mentions);
                    Touch(entry);
                    break;
            }

            return ValueTask.FromResult(new MarkerUpdate(marker, Changed: true));
        }
    }

    private MarkerUpdate SetReadAndSeen(Entry entry, ReadMarker marker)
    {
        var (read, changed, seenChanged) = ReadMarkers.ReadAndSeen(entry.Marker, entry.Seen, marker);
        if (changed)
        {
            entry.Marker = read;
            entry.Mentions = ReadMarkers.After(read, entry.Mentions);
            Touch(entry);
        }

        if (seenChanged)
            entry.Seen = read;
        return new MarkerUpdate(read, changed, seenChanged);
    }

    public ValueTask<IReadOnlyList<ReadEntry>> GetAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default)
    {
        if (!_users.TryGetValue(user, out var entries))
            return ValueTask.FromResult<IReadOnlyList<ReadEntry>>([]);

        lock (entries)
        {
            IEnumerable<KeyValuePair<string, Entry>> selected = channels is null
                ? entries.OrderByDescending(e => e.Value.Touched).ThenBy(e => e.Key, StringComparer.Ordinal).Take(limit)
                : channels.Distinct(StringComparer.Ordinal).Where(entries.ContainsKey).Select(c => new KeyValuePair<string, Entry>(c, entries[c]));
            return ValueTask.FromResult<IReadOnlyList<ReadEntry>>(
                selected.Select(e => new ReadEntry(e.Key, e.Value.Marker, [.. e.Value.Mentions])).ToList());
        }
    }

    public ValueTask MentionAsync(string channel, IReadOnlyList<string> users, Position position, int keep, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        foreach (var user in users)
        {
            var entries = EntriesOf(user);
            lock (entries)
            {
                var entry = GetOrAdd(entries, channel, user);
                if (ReadMarkers.WithMention(entry.Marker, entry.Mentions, position, keep) is { } mentions)
                {
                    entry.Mentions = mentions;
                    Touch(entry);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask JoinAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        foreach (var user in users)
        {
            var entries = EntriesOf(user);
            lock (entries)
                GetOrAdd(entries, channel, user);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default)
    {
        if (!_users.TryGetValue(user, out var entries))
            return ValueTask.FromResult(false);
        lock (entries)
        {
            if (!entries.Remove(channel))
                return ValueTask.FromResult(false);
            if (_members.TryGetValue(channel, out var members))
                members.TryRemove(user, out _);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<IReadOnlyList<MemberReceipt>> GetReceiptsAsync(string channel, int limit, CancellationToken cancellationToken = default)
    {
        if (!_members.TryGetValue(channel, out var members) || limit <= 0)
            return ValueTask.FromResult<IReadOnlyList<MemberReceipt>>([]);

        var receipts = new List<MemberReceipt>();
        foreach (var user in members.Keys.Order(StringComparer.Ordinal))
        {
            if (receipts.Count == limit)
                break;
            if (!_users.TryGetValue(user, out var entries))
                continue;
            lock (entries)
            {
                if (entries.TryGetValue(channel, out var entry))
                    receipts.Add(new MemberReceipt(user, entry.Seen, entry.Delivered));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<MemberReceipt>>(receipts);
    }

    private Dictionary<string, Entry> EntriesOf(string user) =>
        _users.GetOrAdd(user, static _ => new Dictionary<string, Entry>(StringComparer.Ordinal));

    private long _clock;

    /// <summary>The entry, created (and so changed, and the user one of the channel's members) when missing.</summary>
    private Entry GetOrAdd(Dictionary<string, Entry> entries, string channel, string user)
    {
        if (!entries.TryGetValue(channel, out var entry))
        {
            entries[channel] = entry = new Entry();
            Touch(entry);
            _members.GetOrAdd(channel, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[user] = 0;
        }

        return entry;
    }

    private void Touch(Entry entry) => entry.Touched = Interlocked.Increment(ref _clock);

    private sealed class Entry
    {
        public ReadMarker? Marker { get; set; }

        public ReadMarker? Seen { get; set; }

        public ReadMarker? Delivered { get; set; }

        /// <summary>Oldest first, all of one epoch (<see cref="ReadMarkers.WithMention"/>).</summary>
        public List<Position> Mentions { get; set; } = [];

        /// <summary>Orders a user's channels by their last change, newest first: set when a call changes the entry, not when it leaves it as it was.</summary>
        public long Touched { get; set; }
    }
}
