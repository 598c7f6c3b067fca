using System.Text.Json;
using Herald.Channels;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Reading;

/// <summary>
/// Tells a user's other devices what the user read: each accepted marker is published to the user's
/// personal channel (<c>me:&lt;user&gt;</c>) as a <c>herald.read</c> publication
/// <c>{"channel","epoch","offset","n","updatedAt"}</c>, at most once per <see cref="UnreadOptions.SyncInterval"/>
/// per (user, channel) on this node: the first at once, then the newest at the end of the interval.
/// A device that resumes its personal channel from its cursor gets every sync it missed.
/// </summary>
public sealed partial class ReadSync : IAsyncDisposable
{
    private readonly IChannelLog _log;
    private readonly HeraldOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<(string User, string Channel), Slot> _slots = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    public ReadSync(IChannelLog log, IOptions<HeraldOptions> options, TimeProvider? time = null, ILogger<ReadSync>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _log = log;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    private TimeSpan Interval => _options.Unread.SyncInterval;

    /// <summary>Publications made (for tests and metrics).</summary>
    public long Published => Interlocked.Read(ref _published);

    private long _published;

    /// <summary>Queues <paramref name="marker"/> for the user's other devices.</summary>
    public void Enqueue(string user, string channel, ReadMarker marker)
    {
        if (Interval <= TimeSpan.Zero || PersonalChannel(user) is null)
            return;

        var key = (user, channel);
        lock (_lock)
        {
            if (_disposed)
                return;
            if (_slots.TryGetValue(key, out var slot))
            {
                // Inside the interval: the newest marker waits for the timer.
                slot.Pending = marker;
                return;
            }

            slot = new Slot();
            _slots[key] = slot;
            slot.Timer = _time.CreateTimer(state => OnTimer(((string, string))state!), key, Interval, Timeout.InfiniteTimeSpan);
        }

        _ = PublishAsync(user, channel, marker);
    }

    private void OnTimer((string User, string Channel) key)
    {
        ReadMarker? pending;
        lock (_lock)
        {
            if (!_slots.TryGetValue(key, out var slot))
                return;
            pending = slot.Pending;
            slot.Pending = null;
            if (pending is null || _disposed)
            {
                // A quiet interval ends the slot: the next marker goes at once.
                slot.Timer?.Dispose();
                _slots.Remove(key);
                return;
            }

            slot.Timer?.Change(Interval, Timeout.InfiniteTimeSpan);
        }

        _ = PublishAsync(key.User, key.Channel, pending);
    }

    private string? PersonalChannel(string user)
    {
        var channel = _options.Unread.SyncNamespace + ":" + user;
        return ChannelName.IsValid(channel) ? channel : null;
    }

    private async Task PublishAsync(string user, string channel, ReadMarker marker)
    {
        var personal = PersonalChannel(user)!;
        try
        {
            var policy = _options.PolicyFor(personal);
            await _log.AppendAsync(new AppendRequest(
                personal,
                Encode(channel, marker),
                new Retention(policy.HistorySize, policy.HistoryTtl, _options.IdempotencyWindow),
                Type: ActionTypes.Read,
                Countable: false)).ConfigureAwait(false);
            Interlocked.Increment(ref _published);
        }
#pragma warning disable CA1031 // A lost sync costs another device a stale badge until the next marker; it must not fail the marker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SyncFailed(_logger, user, channel, ex);
        }
    }

    /// <summary><c>{"channel":…,"epoch":…,"offset":…,"n":…,"updatedAt":…}</c>.</summary>
    internal static byte[] Encode(string channel, ReadMarker marker)
    {
        using var buffer = new MemoryStream(96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("channel"u8, channel);
            writer.WriteString("epoch"u8, marker.Epoch);
            writer.WriteNumber("offset"u8, marker.Offset);
            writer.WriteNumber("n"u8, marker.N);
            writer.WriteString("updatedAt"u8, marker.UpdatedAt.UtcDateTime);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var slot in _slots.Values)
                slot.Timer?.Dispose();
            _slots.Clear();
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Slot
    {
        public ITimer? Timer { get; set; }

        public ReadMarker? Pending { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2701, Level = LogLevel.Warning, EventName = "ReadSyncFailed",
            Message = "The read marker of '{User}' on '{Channel}' was not published to the user's personal channel; other devices learn it with the next marker")]
        public static partial void SyncFailed(ILogger logger, string user, string channel, Exception exception);
    }
}
