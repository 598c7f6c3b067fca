using System.Collections.Concurrent;
using Herald.Engine;

namespace Herald.Reading;

/// <summary>Read markers and mentions in process memory: the memory engine's store, and the model every other store is checked against.</summary>
public sealed class MemoryReadStateStore : IReadStateStore
{
    private readonly ConcurrentDictionary<string, Dictionary<string, Entry>> _users = new(StringComparer.Ordinal);

    public ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, bool allowBackward, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(marker);
        var entries = EntriesOf(user);
        lock (entries)
        {
            var entry = GetOrAdd(entries, channel);
            if (!ReadMarkers.Advances(entry.Marker, marker, allowBackward))
                return ValueTask.FromResult(new MarkerUpdate(entry.Marker!, Changed: false));

            entry.Marker = marker;
            entry.Mentions = ReadMarkers.After(marker, entry.Mentions);
            Touch(entry);
            return ValueTask.FromResult(new MarkerUpdate(marker, Changed: true));
        }
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
                var entry = GetOrAdd(entries, channel);
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
                GetOrAdd(entries, channel);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default)
    {
        if (!_users.TryGetValue(user, out var entries))
            return ValueTask.FromResult(false);
        lock (entries)
            return ValueTask.FromResult(entries.Remove(channel));
    }

    private Dictionary<string, Entry> EntriesOf(string user) =>
        _users.GetOrAdd(user, static _ => new Dictionary<string, Entry>(StringComparer.Ordinal));

    private long _clock;

    /// <summary>The entry, created (and so changed) when missing.</summary>
    private Entry GetOrAdd(Dictionary<string, Entry> entries, string channel)
    {
        if (!entries.TryGetValue(channel, out var entry))
        {
            entries[channel] = entry = new Entry();
            Touch(entry);
        }

        return entry;
    }

    private void Touch(Entry entry) => entry.Touched = Interlocked.Increment(ref _clock);

    private sealed class Entry
    {
        public ReadMarker? Marker { get; set; }

        /// <summary>Oldest first, all of one epoch (<see cref="ReadMarkers.WithMention"/>).</summary>
        public List<Position> Mentions { get; set; } = [];

        /// <summary>Orders a user's channels by their last change, newest first: set when a call changes the entry, not when it leaves it as it was.</summary>
        public long Touched { get; set; }
    }
}
