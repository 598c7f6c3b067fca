using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Herald.Chaos.SignalR;

/// <summary>What one subscriber saw of one channel, or of all its channels, or all subscribers of all theirs.</summary>
internal class SignalRCounts
{
    /// <summary>Acknowledged publications of the channel(s): what a subscriber should have received.</summary>
    public long Acknowledged { get; set; }

    /// <summary>Publications received, duplicates included (fences are not counted).</summary>
    public long Deliveries { get; set; }

    /// <summary>Acknowledged publications that fell in a connected window (see <see cref="LostWhileConnected"/>), received or not.</summary>
    public long InConnectedWindow { get; set; }

    /// <summary>
    /// Acknowledged publication P of channel C never received although one connection of the
    /// subscriber had completed Join(C) before P's first attempt was sent, was still open (the
    /// client had not seen it close) when P's 201 arrived, and later delivered another publication
    /// of C (or the end-of-run fence of C) whose first attempt was sent after P's 201: a hole in a
    /// stream that demonstrably went on working.
    /// </summary>
    public long LostWhileConnected { get; set; }

    /// <summary>
    /// Never received, inside the same clock window, but the connection delivered nothing of C sent
    /// after P's 201 — it probably died right after the 201, before the client saw it close. Not
    /// counted in <see cref="LostWhileConnected"/>.
    /// </summary>
    public long LostWhileConnectedUnconfirmed { get; set; }

    /// <summary>Acknowledged publications of a channel the subscriber followed throughout the run, never received on any connection.</summary>
    public long LostInTotal { get; set; }

    /// <summary>A publication received again (a retried publish whose first attempt had been broadcast).</summary>
    public long Duplicates { get; set; }

    /// <summary>
    /// First receptions of a publication Q after a publication P whose first attempt was sent after
    /// Q had been acknowledged (Q happened before P, yet arrived after it).
    /// </summary>
    public long OutOfOrder { get; set; }

    public void Add(SignalRCounts other)
    {
        Acknowledged += other.Acknowledged;
        Deliveries += other.Deliveries;
        InConnectedWindow += other.InConnectedWindow;
        LostWhileConnected += other.LostWhileConnected;
        LostWhileConnectedUnconfirmed += other.LostWhileConnectedUnconfirmed;
        LostInTotal += other.LostInTotal;
        Duplicates += other.Duplicates;
        OutOfOrder += other.OutOfOrder;
    }
}

internal sealed class SignalRChannelCounts : SignalRCounts
{
    public string Channel { get; init; } = "";
}

internal sealed class SignalRSubscriberCounts : SignalRCounts
{
    public string Name { get; init; } = "";

    public int Connections { get; init; }

    public long Reconnects { get; init; }

    /// <summary>Only the channels where something was lost, duplicated or out of order.</summary>
    [JsonPropertyOrder(1)]
    public List<SignalRChannelCounts> Channels { get; } = [];
}

/// <summary>The totals of a SignalR run, over every subscriber and channel.</summary>
internal sealed class SignalRTotals : SignalRCounts
{
    public string Peer { get; init; } = "ASP.NET Core SignalR 10.0.15 on the Redis backplane";

    public string Resume { get; init; } = "none: SignalR has no resume, so a reconnect cannot say what was missed — there are no resets to count, the loss is silent";

    public int Nodes { get; init; }

    public int NodeKills { get; init; }

    /// <summary>The kills that happened: the schedule stops when the publishing is over.</summary>
    public int NodeKillsDone { get; init; }

    public long PublishesAcknowledged { get; init; }

    public long PublishRetries { get; init; }

    public long Reconnects { get; set; }

    /// <summary>Messages of a channel a subscriber never joined, or that did not parse (expected: 0).</summary>
    public long Unexpected { get; set; }

    /// <summary>Subscriber channels whose end-of-run fence never arrived: their last publications may be counted lost although still in flight.</summary>
    public long Unfenced { get; set; }

    public double Seconds { get; init; }

    public Dictionary<string, long> ConnectionErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Lost while connected, or out of order (the first 10).</summary>
    [JsonPropertyOrder(1)]
    public List<string> Examples { get; } = [];

    /// <summary>Lost inside the clock window without a later delivery on that connection (the first 10).</summary>
    [JsonPropertyOrder(1)]
    public List<string> UnconfirmedExamples { get; } = [];

    [JsonPropertyOrder(2)]
    public List<SignalRSubscriberCounts> Subscribers { get; } = [];
}

/// <summary>Counts, per subscriber and channel, what arrived against what was acknowledged, and when.</summary>
internal static class SignalRLedger
{
    public static void Count(SignalRTotals totals, SignalRPublishers publishers, IReadOnlyDictionary<(int Channel, int Round), long> fenceSent, IEnumerable<SignalRSubscriber> subscribers)
    {
        var acknowledgedByChannel = new Dictionary<int, List<int>>();
        for (var n = 0; n < publishers.AcknowledgedAt.Length; n++)
        {
            if (publishers.AcknowledgedAt[n] == 0)
                continue;
            if (!acknowledgedByChannel.TryGetValue(publishers.ChannelOf[n], out var list))
                acknowledgedByChannel[publishers.ChannelOf[n]] = list = [];
            list.Add(n);
        }

        // When a reception's publication (or fence) was first sent.
        long Sent(Reception r) => r.IsFence ? fenceSent[(r.Channel, -r.Number)] : publishers.FirstAttempt[r.Number];

        foreach (var subscriber in subscribers)
        {
            var sessions = subscriber.Sessions.Select(s => (s.JoinedAt, s.ClosedAt, s.Received)).ToList();
            var counts = new SignalRSubscriberCounts { Name = subscriber.Name, Connections = sessions.Count, Reconnects = subscriber.Reconnects };
            foreach (var channel in subscriber.Channels)
            {
                var row = new SignalRChannelCounts { Channel = SignalRPublishers.Group(channel) };
                var times = new Dictionary<int, int>();
                var maxSentBefore = 0L;
                // Per connection: the latest first-attempt time of anything of this channel it delivered.
                var latestSent = new long[sessions.Count];
                for (var s = 0; s < sessions.Count; s++)
                {
                    foreach (var reception in sessions[s].Received)
                    {
                        if (reception.Channel != channel)
                            continue;
                        latestSent[s] = Math.Max(latestSent[s], Sent(reception));
                        if (reception.IsFence)
                            continue;
                        var n = reception.Number;
                        row.Deliveries++;
                        times[n] = times.GetValueOrDefault(n) + 1;
                        if (times[n] > 1)
                        {
                            row.Duplicates++;
                            continue;
                        }

                        var acknowledgedAt = publishers.AcknowledgedAt[n];
                        if (acknowledgedAt != 0 && acknowledgedAt < maxSentBefore)
                        {
                            row.OutOfOrder++;
                            Example(totals.Examples, $"{subscriber.Name} {row.Channel}: n{n} arrived after a publication first sent after n{n} was acknowledged");
                        }

                        maxSentBefore = Math.Max(maxSentBefore, publishers.FirstAttempt[n]);
                    }
                }

                foreach (var n in acknowledgedByChannel.GetValueOrDefault(channel, []))
                {
                    row.Acknowledged++;
                    var sent = publishers.FirstAttempt[n];
                    var acknowledged = publishers.AcknowledgedAt[n];
                    var inClockWindow = false;
                    var confirmed = false;
                    for (var s = 0; s < sessions.Count; s++)
                    {
                        if (sessions[s].JoinedAt.TryGetValue(channel, out var joined) && joined < sent && sessions[s].ClosedAt > acknowledged)
                        {
                            inClockWindow = true;
                            confirmed |= latestSent[s] > acknowledged;
                        }
                    }

                    if (confirmed)
                        row.InConnectedWindow++;
                    if (times.ContainsKey(n))
                        continue;
                    row.LostInTotal++;
                    if (confirmed)
                    {
                        row.LostWhileConnected++;
                        Example(totals.Examples, $"{subscriber.Name} {row.Channel}: n{n} lost while connected");
                    }
                    else if (inClockWindow)
                    {
                        row.LostWhileConnectedUnconfirmed++;
                        var closedAfter = sessions.Where(s => s.JoinedAt.TryGetValue(channel, out var joined) && joined < sent && s.ClosedAt > acknowledged).Max(s => s.ClosedAt) - acknowledged;
                        Example(totals.UnconfirmedExamples, $"{subscriber.Name} {row.Channel}: n{n} never arrived; its connection was seen closing {Stopwatch.GetElapsedTime(0, closedAfter).TotalMilliseconds:F0} ms after the 201");
                    }
                }

                counts.Add(row);
                if (row.LostInTotal + row.Duplicates + row.OutOfOrder > 0)
                    counts.Channels.Add(row);
                if (!subscriber.HasFence(channel))
                    totals.Unfenced++;
            }

            totals.Add(counts);
            totals.Subscribers.Add(counts);
            totals.Reconnects += subscriber.Reconnects;
            totals.Unexpected += subscriber.Unexpected;
            foreach (var (error, count) in subscriber.Errors)
                totals.ConnectionErrors[error] = totals.ConnectionErrors.GetValueOrDefault(error) + count;
        }
    }

    private static void Example(List<string> examples, string text)
    {
        if (examples.Count < 10)
            examples.Add(text);
    }
}
