using System.Text.Json;
using Herald.Client.Internal;

namespace Herald.Client.Transports;

/// <summary>What a session reports to the client; channel logic (positions, dedupe, events) lives there, once.</summary>
internal interface ITransportSink
{
    /// <summary>The channels to carry now, in subscription order.</summary>
    IReadOnlyList<string> Channels { get; }

    /// <summary>The position to resume after; null: live from now.</summary>
    Position? PositionOf(string channel);

    void Opened();

    /// <summary>A channel went live on the connection; <paramref name="byServer"/>: the server subscribed it on its own (a WebSocket's auto-subscribed personal channel).</summary>
    void Subscribed(string channel, SubscribeReply reply, bool byServer = false);

    /// <summary>Whether the server subscribed <paramref name="channel"/> on its own before: its position goes in the WebSocket's connect cursor.</summary>
    bool IsServerChannel(string channel);

    /// <summary>The server's API unsubscribed the connection from a channel: do not subscribe it again.</summary>
    void Unsubscribed(string channel, string reason);

    /// <summary>False when the publication breaks the channel's order: the session ends and the client reconnects from its positions.</summary>
    bool Publication(ref WireMessage message);

    /// <summary>The server refused one channel; the connection carries on with the others.</summary>
    void ChannelRefused(string channel, HeraldException error);

    /// <summary>The presence the channel asks for and where its list stands; null: nothing asked.</summary>
    (PresenceMode Mode, PresencePosition? Since)? PresenceOf(string channel);

    /// <summary>A presence, typing or signal message; false when the channel's presence list has a gap: the client reconnects from its position.</summary>
    bool Event(string channel, ReadOnlySpan<byte> line);
}

/// <summary>How a session ended.</summary>
/// <param name="Reason">For people.</param>
/// <param name="Code">WebSocket close code or a <c>disconnect</c> message's code.</param>
/// <param name="Error">The failure behind it: an HTTP problem (with status), a network error, …</param>
/// <param name="Resync">The channel set changed on a transport that carries a fixed set: reconnect at once, quietly.</param>
internal sealed record SessionEnd(string Reason, int? Code = null, HeraldException? Error = null, bool Resync = false)
{
    /// <summary>The server said why it closed and that the client should come back (docs/protocol.md#errors).</summary>
    public bool Explained => Code is 3001 or 3004 or 3008 or 3009 or 3010 or 3011 or 3021;

    /// <summary>
    /// The protocol says not to reconnect: 3000 (ended normally), 1003/1007/1009 (the client sent what the
    /// server refuses), and the terminal range 3500–3999 (3503: the server API disconnected the user).
    /// </summary>
    public bool Final => Code is 3000 or 1003 or 1007 or 1009 || Terminal;

    /// <summary>3500–3999: only an explicit <see cref="HeraldClient.Reconnect"/> connects again, not a new subscription.</summary>
    public bool Terminal => Code is >= 3500 and <= 3999;
}

/// <summary>Everything a session needs, resolved once per connection attempt.</summary>
internal sealed record SessionContext(HeraldClientOptions Options, HttpApi Http, ITransportSink Sink, string? Token);

/// <summary>One connection over one transport, from opening to its end; <see cref="RunAsync"/> returns how it ended.</summary>
internal abstract class TransportSession(HeraldTransport name, SessionContext context) : IDisposable
{
    private long lastReceived = Polyfills.NowMs();

    public HeraldTransport Name { get; } = name;

    public bool IsOpen { get; private set; }

    protected SessionContext Context { get; } = context;

    protected ITransportSink Sink => Context.Sink;

    protected HeraldClientOptions Options => Context.Options;

    protected WireParser Parser { get; } = new();

    public abstract Task<SessionEnd> RunAsync(CancellationToken cancellationToken);

    /// <summary>The client's channel set changed (called from any thread).</summary>
    public abstract void ChannelsChanged();

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    protected void Opened()
    {
        if (IsOpen)
            return;
        IsOpen = true;
        Kick();
        Sink.Opened();
    }

    /// <summary>Something arrived: the connection is alive.</summary>
    protected void Kick() => Volatile.Write(ref lastReceived, Polyfills.NowMs());

    /// <summary>Ends <paramref name="connection"/> when nothing arrives for <see cref="HeraldClientOptions.LivenessTimeout"/>; returns whether it fired.</summary>
    protected async Task<bool> WatchAsync(CancellationTokenSource connection)
    {
        var limit = (long)Options.LivenessTimeout.TotalMilliseconds;
        if (limit <= 0)
            return false;
        try
        {
            while (!connection.IsCancellationRequested)
            {
                var silent = Polyfills.NowMs() - Volatile.Read(ref lastReceived);
                if (silent >= limit)
                {
                    connection.Cancel();
                    return true;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(limit - silent, 50)), connection.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended first.
        }

        return false;
    }

    /// <summary>Hands one received message to the sink; returns a session end for a disconnect or a broken order.</summary>
    protected SessionEnd? Dispatch(ReadOnlySpan<byte> line, MessageType impliedType = MessageType.Unknown, bool observe = true)
    {
        if (observe)
            Options.WireObserver?.Invoke(Name, line);
        if (!TryParse(line, out var message, out var failure))
            return failure;
        if (message.Type == MessageType.Unknown)
            message.Type = impliedType;
        return Route(ref message, line);
    }

    protected bool TryParse(ReadOnlySpan<byte> line, out WireMessage message, out SessionEnd? failure)
    {
        try
        {
            Parser.Parse(line, out message);
            failure = null;
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            message = default;
            failure = new SessionEnd($"unreadable message: {e.Message}", Error: HeraldException.Invalid(e.Message));
            return false;
        }
    }

    /// <summary>Publications, <c>subscribed</c> (of SSE, streaming and polling) and <c>disconnect</c>; everything else is ignored here.</summary>
    protected SessionEnd? Route(ref WireMessage message, ReadOnlySpan<byte> line)
    {
        switch (message.Type)
        {
            case MessageType.Publication:
                if (!message.HasData || message.Channel is null)
                    return new SessionEnd("unreadable publication", Error: HeraldException.Invalid("a publication without channel or data"));
                return Sink.Publication(ref message) ? null : new SessionEnd($"offsets out of order on {message.Channel}");
            case MessageType.Subscribed:
                try
                {
                    foreach (var (channel, reply) in Replies.ChannelReplies(line))
                        Sink.Subscribed(channel, reply);
                }
                catch (Exception e) when (e is JsonException or HeraldException)
                {
                    return new SessionEnd($"unreadable message: {e.Message}", Error: HeraldException.Invalid(e.Message));
                }

                return null;
            case MessageType.Unsubscribed when message.Channel is { } channel:
                Sink.Unsubscribed(channel, Replies.Reason(line));
                return null;
            case MessageType.Disconnect:
                return new SessionEnd($"server closed ({message.Code} {Replies.Reason(line)})", message.Code);
            case MessageType.ChannelEvent:
                return message.Channel is null || Sink.Event(message.Channel, line) ? null : new SessionEnd($"presence out of order on {message.Channel}");
            default:
                return null;
        }
    }
}
