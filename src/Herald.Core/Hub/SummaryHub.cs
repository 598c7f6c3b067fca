using System.Text.Json;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// Summary subscriptions, for sidebars: per channel only <c>{epoch, offset, n, time, from}</c> of its
/// newest publication, conflated per channel on this node — the first at once, then at most one per
/// <see cref="Transports.TransportOptions.SummaryInterval"/> carrying the newest state — and never a
/// replay. One encoded message per channel and interval goes to every summary subscriber of it.
/// Subscribers follow channels through the node like any reader (<see cref="IChannelInterest"/>).
/// </summary>
public sealed class SummaryHub : IDisposable
{
    private readonly Dictionary<string, ChannelSummaries> _channels = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Func<TimeSpan> _interval;
    private bool _disposed;

    /// <summary>Channels with summary subscribers on this node: while none, a publication costs one read of this.</summary>
    private volatile int _followed;

    /// <param name="interval">Read on every publication, so a changed setting applies at once.</param>
    public SummaryHub(Func<TimeSpan> interval, TimeProvider? time = null)
    {
        _interval = interval;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The node, told of each channel's first and last summary subscriber on this node.</summary>
    public IChannelInterest? Interest { get; set; }

    /// <summary>Summary messages sent (each to every subscriber of its channel).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    private long _sent;

    /// <summary>Adds <paramref name="session"/> to the channel's summaries; completes when the node follows the channel.</summary>
    public Task AddAsync(string channel, Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_channels.TryGetValue(channel, out var summaries))
            {
                _channels[channel] = summaries = new ChannelSummaries(channel);
                _followed = _channels.Count;
            }

            summaries.Sessions.Add(session);
            if (Interest is not { } interest)
                return Task.CompletedTask;
            return summaries.Sessions.Count == 1 ? interest.Acquire(channel) : interest.WhenReady(channel);
        }
    }

    /// <returns>Whether the session had a summary subscription to the channel.</returns>
    public bool Remove(string channel, Session session)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var summaries) || !summaries.Sessions.Remove(session))
                return false;
            if (summaries.Sessions.Count == 0)
            {
                summaries.Timer?.Dispose();
                _channels.Remove(channel);
                _followed = _channels.Count;
                Interest?.Release(channel);
            }

            return true;
        }
    }

    /// <summary>Called by the node for every publication it delivers, in offset order per channel.</summary>
    public void OnPublished(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (_followed == 0)
            return;

        Session[] targets;
        byte[] message;
        lock (_lock)
        {
            if (!_channels.TryGetValue(publication.Channel, out var summaries))
                return;
            summaries.Latest = publication;
            var now = _time.GetTimestamp();
            var interval = _interval();
            if (summaries.Timer is not null || (summaries.LastSent != 0 && _time.GetElapsedTime(summaries.LastSent, now) < interval))
            {
                // Inside the interval: the timer sends the newest state at its end.
                summaries.Timer ??= _time.CreateTimer(static state => ((ChannelSummaries)state!).Hub!.OnTimer((ChannelSummaries)state!), summaries, interval - _time.GetElapsedTime(summaries.LastSent, now), Timeout.InfiniteTimeSpan);
                summaries.Hub = this;
                return;
            }

            summaries.LastSent = now;
            summaries.Latest = null;
            targets = [.. summaries.Sessions];
            message = Encode(publication);
        }

        Send(targets, message);
    }

    private void OnTimer(ChannelSummaries summaries)
    {
        Session[] targets;
        byte[] message;
        lock (_lock)
        {
            summaries.Timer?.Dispose();
            summaries.Timer = null;
            if (_disposed || summaries.Latest is not { } latest || !_channels.ContainsKey(summaries.Channel))
                return;
            summaries.LastSent = _time.GetTimestamp();
            summaries.Latest = null;
            targets = [.. summaries.Sessions];
            message = Encode(latest);
        }

        Send(targets, message);
    }

    private void Send(Session[] targets, byte[] message)
    {
        Interlocked.Increment(ref _sent);
        foreach (var session in targets)
            session.TrySend(message);
    }

    /// <summary><c>{"type":"summary","channel","epoch","offset","n","time","from"?}</c>.</summary>
    public static byte[] Encode(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        using var buffer = new MemoryStream(160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "summary"u8);
            writer.WriteString("channel"u8, publication.Channel);
            writer.WriteString("epoch"u8, publication.Epoch);
            writer.WriteNumber("offset"u8, publication.Offset);
            writer.WriteNumber("n"u8, publication.N);
            writer.WriteString("time"u8, publication.Time.UtcDateTime);
            if (publication.From is not null)
                writer.WriteString("from"u8, publication.From);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var summaries in _channels.Values)
                summaries.Timer?.Dispose();
            _channels.Clear();
            _followed = 0;
        }
    }

    private sealed class ChannelSummaries(string channel)
    {
        public string Channel { get; } = channel;

        public List<Session> Sessions { get; } = [];

        public Publication? Latest { get; set; }

        public long LastSent { get; set; }

        public ITimer? Timer { get; set; }

        public SummaryHub? Hub { get; set; }
    }
}
