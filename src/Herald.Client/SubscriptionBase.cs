using System.Text.Json;
using Herald.Client.Internal;

namespace Herald.Client;

/// <summary>What every subscription has whatever its data type: channel, position, state and events.</summary>
public abstract class SubscriptionBase : IAsyncDisposable
{
    private readonly TaskCompletionSource<bool> acknowledged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int status; // 0 active, 1 ended, 2 failed

    private protected SubscriptionBase(string channel, Position? since, IOwner owner, PresenceMode? presence = null)
    {
        Channel = channel;
        Owner = owner;
        Tracker = new ChannelTracker(since);
        Presence = presence is { } mode ? new PresenceList(mode) : null;
    }

    /// <summary>The presence list or counts changed (with <see cref="SubscribeOptions.Presence"/>).</summary>
    public event EventHandler<PresenceEvent>? PresenceChanged;

    /// <summary>The set of typing users changed (on a namespace with typing).</summary>
    public event EventHandler<TypingEvent>? TypingChanged;

    /// <summary>A signal arrived (on a namespace with signals).</summary>
    public event EventHandler<SignalEvent>? SignalReceived;

    /// <summary>The channel's presence, with <see cref="SubscribeOptions.Presence"/>; else null.</summary>
    public PresenceList? Presence { get; }

    /// <summary>The server's typing timings, from the WebSocket subscribe reply on a namespace with typing; null until then.</summary>
    public TypingTimings? Typing { get; private set; }

    /// <summary>The server confirmed the subscription on a connection (first time and after each reconnect).</summary>
    public event EventHandler<SubscribedEvent>? Subscribed;

    /// <summary>A resume from a known position lost nothing.</summary>
    public event EventHandler<SubscribedEvent>? Recovered;

    /// <summary>The position was gone (history trimmed, memory store restarted): reload, e.g. with history.</summary>
    public event EventHandler<ResetEvent>? Reset;

    /// <summary>The server refused the subscription (<c>forbidden</c>, <c>unauthorized</c>, …): it is over.</summary>
    public event EventHandler<HeraldException>? Failed;

    /// <summary>The server's API unsubscribed the user from the channel (<c>POST /v1/users/{user}/unsubscribe</c>): it is over and not renewed.</summary>
    public event EventHandler<UnsubscribedEvent>? Unsubscribed;

    /// <summary>The channel.</summary>
    public string Channel { get; }

    /// <summary>The position of the last publication delivered (or the one resumed from); null before the first reply of a live subscription. Keep it to resume later with <see cref="SubscribeOptions.Since"/>.</summary>
    public Position? Position
    {
        get
        {
            lock (Gate)
                return Tracker.Position;
        }
    }

    /// <summary>False once unsubscribed, refused, or the client is disposed.</summary>
    public bool Active => Volatile.Read(ref status) == 0;

    /// <summary>The refusal that ended it, if any.</summary>
    public HeraldException? Failure { get; private set; }

    private protected object Gate { get; } = new();

    private protected ChannelTracker Tracker { get; }

    private protected IOwner Owner { get; }

    /// <summary>
    /// Completes once the server has confirmed the subscription, so a publish made afterwards is received;
    /// throws the server's refusal (a <see cref="HeraldException"/> with its code) or <c>closed</c>.
    /// </summary>
    public Task WaitSubscribedAsync(CancellationToken cancellationToken = default) =>
        acknowledged.Task.WaitAsync(cancellationToken);

    /// <summary>Stops the subscription; loops end. Calling it again does nothing.</summary>
    public void Unsubscribe()
    {
        if (Interlocked.CompareExchange(ref status, 1, 0) != 0)
            return;
        Owner.Unsubscribe(this);
        Complete(null);
    }

    /// <summary>Unsubscribes.</summary>
    public ValueTask DisposeAsync()
    {
        Unsubscribe();
        GC.SuppressFinalize(this);
        return default;
    }

    internal abstract AcceptOutcome Deliver(ref WireMessage message, HeraldTransport transport);

    internal void Confirm(SubscribeReply reply, HeraldTransport transport)
    {
        ConfirmOutcome outcome;
        Position? previous;
        Position at;
        lock (Gate)
        {
            if (!Active)
                return;
            (outcome, previous) = Tracker.Confirm(reply);
            Typing = reply.Typing ?? Typing;
            at = Tracker.Position ?? new Position(reply.Epoch, reply.Offset);
        }

        Raise(Subscribed, new SubscribedEvent(transport, at, reply.Recovered));
        if (outcome == ConfirmOutcome.Recovered)
            Raise(Recovered, new SubscribedEvent(transport, at, true));
        else if (outcome == ConfirmOutcome.Reset)
            Raise(Reset, new ResetEvent(transport, at, previous));
        acknowledged.TrySetResult(true);
    }

    /// <summary>A presence, typing or signal message of the channel; false when the presence list has a gap (the client resumes it).</summary>
    internal bool Handle(ReadOnlySpan<byte> line)
    {
        if (!Active)
            return true;
        var reader = new Utf8JsonReader(line);
        using var document = JsonDocument.ParseValue(ref reader);
        var m = document.RootElement;
        switch (m.GetProperty("type").GetString())
        {
            case "typing":
                Raise(TypingChanged, new TypingEvent([.. m.GetProperty("users").EnumerateArray().Select(u => u.GetString()!)], m.GetProperty("total").GetInt32()));
                return true;
            case "signal":
                var from = m.TryGetProperty("from", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                var data = m.TryGetProperty("data", out var d) ? new JsonData(System.Text.Encoding.UTF8.GetBytes(d.GetRawText())) : (JsonData?)null;
                Raise(SignalReceived, new SignalEvent(Channel, m.GetProperty("name").GetString()!, from, data));
                return true;
        }

        if (Presence is null)
            return true;
        var (change, gap) = Presence.Apply(m);
        if (change is not null)
            Raise(PresenceChanged, change);
        return !gap;
    }

    /// <summary>The server refused the subscription: it is over.</summary>
    internal void Fail(HeraldException error)
    {
        if (Interlocked.CompareExchange(ref status, 2, 0) != 0)
            return;
        Failure = error;
        Raise(Failed, error);
        Complete(error);
    }

    /// <summary>The server unsubscribed the client: over, without error and without a resubscribe.</summary>
    internal void UnsubscribedByServer(UnsubscribedEvent e)
    {
        if (Interlocked.CompareExchange(ref status, 1, 0) != 0)
            return;
        Raise(Unsubscribed, e);
        Complete(null);
    }

    /// <summary>Ends without error (the client was disposed).</summary>
    internal void End()
    {
        if (Interlocked.CompareExchange(ref status, 1, 0) != 0)
            return;
        Complete(null);
    }

    private protected abstract void Finish(HeraldException? error);

    private void Complete(HeraldException? error)
    {
        lock (Gate)
            Finish(error);
        acknowledged.TrySetException(error ?? new HeraldException("closed", $"The subscription to '{Channel}' ended before the server confirmed it."));
        // Nobody may be waiting: observe it so it is never reported as unobserved.
        _ = acknowledged.Task.Exception;
    }

    private void Raise<TArgs>(EventHandler<TArgs>? handler, TArgs args)
    {
        if (handler is null)
            return;
        try
        {
            handler(this, args);
        }
#pragma warning disable CA1031 // An application handler's bug must not kill the connection that every channel shares.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Owner.HandlerFailed(e);
        }
    }

    /// <summary>What a subscription needs from its client.</summary>
    internal interface IOwner
    {
        void Unsubscribe(SubscriptionBase subscription);

        void HandlerFailed(Exception exception);
    }
}
