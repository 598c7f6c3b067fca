using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Herald.Hub;
using Microsoft.Extensions.Options;

namespace Herald.Typing;

/// <summary>
/// Typing indicators owned by the server: clients say "typing" (start or refresh) and "stopped";
/// the server keeps <c>user → expiry</c> per channel, clears a typer at once on stop, on their next
/// publication in the channel, when the session that typed leaves the channel, or when the
/// expiry passes, and sends subscribers only changes, as the whole set (docs/protocol.md, "Typing").
/// </summary>
/// <remarks>
/// Every node following a channel keeps the same set: a change travels through the broker as a
/// <c>typing_change</c> event (never shown to clients), each node applies it and, when its set
/// changed, sends <c>typing</c> to its own subscribers. Expiry is checked on each node's clock.
/// Nothing is stored. Rooms with more than <see cref="ChannelPolicy.TypingAggregateAbove"/> local
/// subscribers get the set at most once a second.
/// </remarks>
public sealed class TypingService : IAsyncDisposable
{
    /// <summary>The event kind clients receive (and the SSE event name).</summary>
    public const string EventKind = "typing";

    /// <summary>The event kind of a change between nodes; never delivered to clients.</summary>
    public const string ChangeKind = "typing_change";

    private static readonly TimeSpan s_aggregateInterval = TimeSpan.FromSeconds(1);
    private readonly IBroker _broker;
    private readonly ChannelHub _hub;
    private readonly HeraldOptions _options;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChannelTypers> _channels = new(StringComparer.Ordinal);

    // The starts this node sent (channel, user) and their expiry: refreshes within it are not resent.
    private readonly Dictionary<(string Channel, string User), Typer> _sent = [];

    public TypingService(IBroker broker, ChannelHub hub, IOptions<HeraldOptions> options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(options);
        _broker = broker;
        _hub = hub;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        hub.AddEventHandler(OnEvent);
        hub.Removed += OnRemoved;
        _timer = _time.CreateTimer(static s => ((TypingService)s!).Tick(), this, TickPeriod, TickPeriod);
    }

    internal static TimeSpan TickPeriod { get; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Held long polls, woken by a change of a channel's typing set so a poller sees it at once.</summary>
    internal PollWaiters? Polls { get; set; }

    /// <summary>Checks a typing request: <see cref="TypingError.None"/> when accepted.</summary>
    public TypingError Check(string channel, Caller caller)
    {
        if (!ChannelName.TryValidate(channel, out _))
            return TypingError.InvalidChannel;
        if (!_options.PolicyFor(channel).Typing)
            return TypingError.Disabled;
        if (caller.Kind != CallerKind.User || caller.User is null)
            return TypingError.NotAUser;
        return ChannelAccess.Check(_options, channel, caller, ChannelOperation.Subscribe) is null ? TypingError.None : TypingError.Forbidden;
    }

    /// <summary>
    /// <paramref name="user"/> is typing (<paramref name="typing"/>) or stopped on <paramref name="channel"/>.
    /// A refresh that changes nothing visible sends nothing to other nodes more than once per resend interval.
    /// </summary>
    /// <param name="session">The session that typed, so its leaving the channel stops it; null for the HTTP API.</param>
    public async ValueTask SetAsync(string channel, string user, bool typing, string? session, CancellationToken cancellationToken = default)
    {
        var policy = _options.PolicyFor(channel);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (typing)
            {
                // A refresh well within the expiry of a start this node sent: the other nodes know already.
                if (_sent.TryGetValue((channel, user), out var sent) && sent.Expires - now > policy.TypingExpire - policy.TypingResend / 2)
                {
                    sent.Session = session ?? sent.Session;
                    return;
                }

                _sent[(channel, user)] = new Typer(now, now + policy.TypingExpire, session);
            }
            else
            {
                // Always sent, even when this node has not heard its own start back yet: a stop
                // dropped here would leave the user typing until the expiry.
                _sent.Remove((channel, user));
            }
        }

        await _broker.PublishEventAsync(new ChannelEvent(channel, ChangeKind, EncodeChange(user, typing, session, typing ? policy.TypingExpire : TimeSpan.Zero)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A publication by <paramref name="user"/> ends their typing on its channel (the caller checked the namespace has typing).</summary>
    public async ValueTask OnPublishedAsync(string channel, string? user, CancellationToken cancellationToken = default)
    {
        if (user is null)
            return;
        lock (_lock)
        {
            // A publisher this node did not see start, and no node said is typing, costs nothing.
            if (!_sent.ContainsKey((channel, user)) && (!_channels.TryGetValue(channel, out var typers) || !typers.Users.ContainsKey(user)))
                return;
        }

        await StopQuietlyAsync(channel, user, null).ConfigureAwait(false);
    }

    /// <summary>A stop nobody waits for: when the engine is down, the typer expires by itself.</summary>
    private async Task StopQuietlyAsync(string channel, string user, string? session)
    {
        try
        {
            await SetAsync(channel, user, typing: false, session).ConfigureAwait(false);
        }
        catch (EngineUnavailableException)
        {
        }
    }

    /// <summary>
    /// The <c>typing</c> member of a poll answer's channel entry, <c>{"users":[…],"total":N,"tag":"…"}</c>,
    /// and its tag: polling is stateless, so a poller names the set it has by its tag and a held
    /// poll returns when the tag differs.
    /// </summary>
    public (byte[] Json, string Tag) PollPart(string channel, int limit)
    {
        List<string> users;
        lock (_lock)
            users = _channels.TryGetValue(channel, out var typers) ? [.. typers.Users.OrderBy(u => u.Value.Since).Select(u => u.Key)] : [];
        var tag = Tag(users);
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("users"u8);
            foreach (var user in users.Take(limit))
                writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WriteNumber("total"u8, users.Count);
            writer.WriteString("tag"u8, tag);
            writer.WriteEndObject();
        }

        return (buffer.WrittenSpan.ToArray(), tag);
    }

    /// <summary><c>0</c> for nobody, else FNV-1a (32 bits, hex) of the users in order: the same set has the same tag on every node.</summary>
    internal static string Tag(IReadOnlyList<string> users)
    {
        if (users.Count == 0)
            return "0";
        var hash = 2166136261u;
        foreach (var user in users)
        {
            foreach (var b in Encoding.UTF8.GetBytes(user + "\n"))
                hash = (hash ^ b) * 16777619u;
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>The current set as clients receive it; for the subscribe reply's first state and tests.</summary>
    public IReadOnlyList<string> Typers(string channel)
    {
        lock (_lock)
            return _channels.TryGetValue(channel, out var typers) ? [.. typers.Users.Keys] : [];
    }

    private void OnRemoved(Subscription subscription)
    {
        var user = subscription.Session.User;
        if (user is null)
            return;
        lock (_lock)
        {
            var typed = _sent.TryGetValue((subscription.Channel, user), out var sent) && string.Equals(sent.Session, subscription.Session.Id, StringComparison.Ordinal);
            if (!typed && (!_channels.TryGetValue(subscription.Channel, out var typers) || !typers.Users.TryGetValue(user, out var typer)
                || !string.Equals(typer.Session, subscription.Session.Id, StringComparison.Ordinal)))
                return;
        }

        _ = StopQuietlyAsync(subscription.Channel, user, subscription.Session.Id);
    }

    private bool OnEvent(ChannelEvent channelEvent)
    {
        if (!string.Equals(channelEvent.Kind, ChangeKind, StringComparison.Ordinal))
            return false;

        var (user, typing, session, ttl) = DecodeChange(channelEvent.Payload.Span);
        var now = _time.GetUtcNow();
        var channel = channelEvent.Channel;
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var typers))
            {
                if (!typing)
                    return true;
                _channels[channel] = typers = new ChannelTypers();
            }

            var changed = false;
            if (typing)
            {
                if (typers.Users.TryGetValue(user, out var typer))
                {
                    typer.Expires = now + ttl;
                    typer.Session = session ?? typer.Session;
                }
                else
                {
                    typers.Users[user] = new Typer(now, now + ttl, session);
                    changed = true;
                }
            }
            else if (typers.Users.Remove(user))
            {
                changed = true;
            }

            if (changed)
                typers.Dirty = true;
        }

        Flush(channel);
        return true;
    }

    private void Tick()
    {
        var now = _time.GetUtcNow();
        List<string> channels;
        lock (_lock)
        {
            foreach (var (_, typers) in _channels)
            {
                foreach (var (user, typer) in typers.Users.ToArray())
                {
                    if (typer.Expires <= now)
                    {
                        typers.Users.Remove(user);
                        typers.Dirty = true;
                    }
                }
            }

            foreach (var (key, sent) in _sent.ToArray())
            {
                if (sent.Expires <= now)
                    _sent.Remove(key);
            }

            channels = [.. _channels.Where(c => c.Value.Dirty).Select(c => c.Key)];
        }

        foreach (var channel in channels)
            Flush(channel);
    }

    /// <summary>Sends the channel's set to its local subscribers if it changed (at most once a second in large rooms).</summary>
    private void Flush(string channel)
    {
        var policy = _options.PolicyFor(channel);
        var large = _hub.GetSubscriberCount(channel) > policy.TypingAggregateAbove;
        var nowTicks = _time.GetTimestamp();
        byte[] payload;
        lock (_lock)
        {
            if (!_channels.TryGetValue(channel, out var typers) || !typers.Dirty)
                return;
            if (large && typers.LastSent != 0 && _time.GetElapsedTime(typers.LastSent, nowTicks) < s_aggregateInterval)
                return;
            typers.Dirty = false;
            typers.LastSent = nowTicks;
            payload = Encode(channel, typers.Users.OrderBy(u => u.Value.Since).Select(u => u.Key).ToList(), policy.TypingListLimit);
            if (typers.Users.Count == 0)
                _channels.Remove(channel);
        }

        _hub.OnEvent(new ChannelEvent(channel, EventKind, payload));
        Polls?.Wake(channel);
    }

    /// <summary><c>{"type":"typing","channel":…,"users":[≤ limit],"total":N}</c>.</summary>
    internal static byte[] Encode(string channel, IReadOnlyList<string> users, int limit)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, EventKind);
            writer.WriteString("channel"u8, channel);
            writer.WriteStartArray("users"u8);
            foreach (var user in users.Take(limit))
                writer.WriteStringValue(user);
            writer.WriteEndArray();
            writer.WriteNumber("total"u8, users.Count);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] EncodeChange(string user, bool typing, string? session, TimeSpan ttl)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("user"u8, user);
            writer.WriteBoolean("typing"u8, typing);
            if (session is not null)
                writer.WriteString("session"u8, session);
            writer.WriteNumber("ttl"u8, (long)ttl.TotalMilliseconds);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static (string User, bool Typing, string? Session, TimeSpan Ttl) DecodeChange(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        string user = string.Empty;
        string? session = null;
        var typing = false;
        long ttl = 0;
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "user": user = reader.GetString() ?? string.Empty; break;
                case "typing": typing = reader.GetBoolean(); break;
                case "session": session = reader.GetString(); break;
                case "ttl": ttl = reader.GetInt64(); break;
                default: reader.Skip(); break;
            }
        }

        return (user, typing, session, TimeSpan.FromMilliseconds(ttl));
    }

    public async ValueTask DisposeAsync() => await _timer.DisposeAsync().ConfigureAwait(false);

    private sealed class ChannelTypers
    {
        public Dictionary<string, Typer> Users { get; } = new(StringComparer.Ordinal);

        public bool Dirty { get; set; }

        public long LastSent { get; set; }
    }

    private sealed class Typer(DateTimeOffset since, DateTimeOffset expires, string? session)
    {
        /// <summary>When the user started: the set lists the earliest typers first.</summary>
        public DateTimeOffset Since { get; } = since;

        public DateTimeOffset Expires { get; set; } = expires;

        /// <summary>The session that typed last: its leaving the channel stops the user.</summary>
        public string? Session { get; set; } = session;
    }
}

public enum TypingError
{
    None,
    InvalidChannel,
    Disabled,
    NotAUser,
    Forbidden,
}
