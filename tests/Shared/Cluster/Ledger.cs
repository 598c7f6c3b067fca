using System.Collections.Concurrent;

namespace Herald.Testing.Cluster;

/// <summary>One publication as a client saw it: its position and the publisher's key in its data.</summary>
public readonly record struct Seen(string Epoch, long Offset, string Key);

/// <summary>A reset a subscriber was told of: from where, to where, and how it learned it.</summary>
public readonly record struct Reset(string FromEpoch, long FromOffset, string ToEpoch, long ToOffset, string Reason);

/// <summary>What one subscriber received on one channel, in order.</summary>
public sealed class ChannelRecord
{
    private readonly Lock _lock = new();
    private readonly List<object> _events = [];

    public void Received(Seen seen)
    {
        lock (_lock)
            _events.Add(seen);
    }

    public void WasReset(Reset reset)
    {
        lock (_lock)
            _events.Add(reset);
    }

    public IReadOnlyList<object> Events
    {
        get
        {
            lock (_lock)
                return [.. _events];
        }
    }

    public int ReceivedCount
    {
        get
        {
            lock (_lock)
                return _events.Count(e => e is Seen);
        }
    }
}

/// <summary>The totals of a run: every number the issue asks to be zero, and the resets with their reasons.</summary>
public sealed class Totals
{
    public long Acknowledged { get; set; }

    public long PublishRetries { get; set; }

    /// <summary>Faults injected during the publishing (node kills, Redis restarts, …): fewer than asked when the publishing ended first.</summary>
    public int FaultsInjected { get; set; }

    /// <summary>Acknowledged publications the log no longer holds at the end (Redis lost them).</summary>
    public long LostByEngine { get; set; }

    /// <summary>Per subscriber and channel: a publication of the log neither received nor covered by a reset.</summary>
    public long Missing { get; set; }

    public long Gaps { get; set; }

    public long Duplicates { get; set; }

    /// <summary>A position received with another publication than the one acknowledged there (a silent rewrite).</summary>
    public long Mismatches { get; set; }

    public long Deliveries { get; set; }

    public ConcurrentDictionary<string, long> Resets { get; } = new(StringComparer.Ordinal);

    public long ResetCount => Resets.Values.Sum();

    /// <summary>The first missing, gapped, duplicated and mismatched deliveries, for the report.</summary>
    public List<string> Examples { get; } = [];

    /// <summary>The first acknowledged publications the log no longer holds at the end.</summary>
    public List<string> LostExamples { get; } = [];
}

/// <summary>Checks what every subscriber received against what was acknowledged and what the log holds at the end.</summary>
public static class Verifier
{
    public static void Check(
        Totals totals,
        IReadOnlyDictionary<string, List<Seen>> acknowledged,
        IReadOnlyDictionary<string, List<Seen>> finalLog,
        IEnumerable<(string Subscriber, string Channel, ChannelRecord Record)> records)
    {
        foreach (var (channel, acks) in acknowledged)
        {
            var log = finalLog.TryGetValue(channel, out var l) ? l.ToHashSet() : [];
            foreach (var ack in acks)
            {
                if (!log.Contains(ack))
                {
                    totals.LostByEngine++;
                    Example(totals.LostExamples, $"{channel}: acknowledged {ack.Epoch}:{ack.Offset} ({ack.Key}) is not in the log at the end");
                }
            }
        }

        foreach (var (subscriber, channel, record) in records)
        {
            var events = record.Events;
            var positions = new HashSet<(string, long)>();
            string? epoch = null;
            long last = 0;
            // Per epoch, the first offset this subscriber was responsible for (0: from the start).
            var coveredFrom = new Dictionary<string, long>(StringComparer.Ordinal);
            var received = new HashSet<(string, long)>();
            var byPosition = new Dictionary<(string, long), string>();
            foreach (var ack in acknowledged.GetValueOrDefault(channel, []))
                byPosition[(ack.Epoch, ack.Offset)] = ack.Key;
            foreach (var entry in finalLog.GetValueOrDefault(channel, []))
                byPosition[(entry.Epoch, entry.Offset)] = entry.Key;

            for (var index = 0; index < events.Count; index++)
            {
                var item = events[index];
                if (item is Reset reset)
                {
                    totals.Resets.AddOrUpdate(reset.Reason, 1, (_, n) => n + 1);
                    epoch = reset.ToEpoch;
                    last = reset.ToOffset;
                    coveredFrom[reset.ToEpoch] = Math.Max(coveredFrom.GetValueOrDefault(reset.ToEpoch), reset.ToOffset + 1);
                    continue;
                }

                var seen = (Seen)item;
                totals.Deliveries++;
                if (!positions.Add((seen.Epoch, seen.Offset)))
                {
                    totals.Duplicates++;
                    Example(totals.Examples, $"{subscriber} {channel}: {seen.Epoch}:{seen.Offset} twice");
                    continue;
                }

                received.Add((seen.Epoch, seen.Offset));
                if (byPosition.TryGetValue((seen.Epoch, seen.Offset), out var key) && key != seen.Key)
                {
                    totals.Mismatches++;
                    Example(totals.Examples, $"{subscriber} {channel}: {seen.Epoch}:{seen.Offset} carried {seen.Key}, acknowledged as {key}");
                }

                if (epoch is null || seen.Epoch != epoch)
                {
                    if (epoch is not null && seen.Offset != 1)
                    {
                        totals.Gaps++;
                        Example(totals.Examples, $"{subscriber} {channel}: epoch {epoch} → {seen.Epoch}:{seen.Offset} without a reset, after {string.Join(", ", events.Skip(Math.Max(0, index - 4)).Take(Math.Min(index, 4)))}");
                    }

                    coveredFrom.TryAdd(seen.Epoch, 1);
                }
                else if (seen.Offset != last + 1)
                {
                    totals.Gaps++;
                    Example(totals.Examples, $"{subscriber} {channel}: {epoch}:{last} → {seen.Offset}");
                }

                epoch = seen.Epoch;
                last = seen.Offset;
            }

            // Everything the log holds (and everything acknowledged that it still holds) in an epoch
            // this subscriber followed, from where it became responsible, must have been received.
            foreach (var entry in finalLog.GetValueOrDefault(channel, []))
            {
                var from = coveredFrom.TryGetValue(entry.Epoch, out var f) ? f : 1;
                var followed = coveredFrom.ContainsKey(entry.Epoch) || (epoch is null && entry.Offset >= 1);
                if (followed && entry.Offset >= from && !received.Contains((entry.Epoch, entry.Offset)))
                {
                    totals.Missing++;
                    Example(totals.Examples, $"{subscriber} {channel}: missing {entry.Epoch}:{entry.Offset}");
                }
            }
        }
    }

    private static void Example(List<string> examples, string text)
    {
        lock (examples)
        {
            if (examples.Count < 100)
                examples.Add(text);
        }
    }
}
