using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Herald.Client.Internal;

namespace Herald.Client.Transports;

/// <summary>
/// <c>GET /v1/ws</c>: one socket for every channel, publish and history (docs/protocol.md#websocket).
/// Subscribes and unsubscribes follow the client's channel set as ops; requests queued together go out
/// in one frame, '\n'-joined; every server <c>{"type":"ping"}</c> is answered with <c>{"op":"pong"}</c>,
/// so the server's idle timeout (3011) never closes a healthy client.
/// </summary>
internal sealed partial class WebSocketSession(SessionContext context) : TransportSession(HeraldTransport.WebSocket, context)
{
    private static readonly byte[] Pong = "{\"op\":\"pong\"}"u8.ToArray();

    /// <summary><see cref="carried"/>'s mark of a channel the server subscribed on its own (request ids start at 1).</summary>
    private const long ByServer = 0;

    private readonly object gate = new();
    private readonly Dictionary<string, long> carried = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> subscribeIds = [];
    private readonly Dictionary<long, TaskCompletionSource<byte[]>> pending = [];
    private readonly List<byte[]> outbox = [];
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private ClientWebSocket? socket;
    private CancellationTokenSource? connection;
    private long nextId;
    private bool flushing;
    private bool ended;

    /// <summary>Whether requests can go over this socket now.</summary>
    public bool CanSend
    {
        get
        {
            lock (gate)
                return IsOpen && !ended;
        }
    }

    public override async Task<SessionEnd> RunAsync(CancellationToken cancellationToken)
    {
        using var client = new ClientWebSocket();
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        socket = client;
        connection = lifetime;
        // Protocol pings are not activity for the server (docs/protocol.md#heartbeat); the app-level
        // pong is, and the liveness watchdog covers the other direction.
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        if (Context.Token is { } token)
            client.Options.SetRequestHeader("Authorization", "Bearer " + token);
        foreach (var header in Context.Http.Headers)
            client.Options.SetRequestHeader(header.Key, header.Value);
#if !NETSTANDARD2_1
        client.Options.CollectHttpResponseDetails = true;
#endif
        try
        {
            using var open = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            open.CancelAfter(Options.OpenTimeout);
            try
            {
                await client.ConnectAsync(WebSocketUri(Context.Http.BaseAddress, ConnectCursor()), open.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                return new SessionEnd($"failed to open ({Describe(e)})", Error: HandshakeError(client, e));
            }

            Opened();
            ChannelsChanged();
            var watchdog = WatchAsync(lifetime);
            var end = await ReceiveAsync(client, lifetime.Token).ConfigureAwait(false);
            if (end is null && await watchdog.ConfigureAwait(false))
                end = new SessionEnd("no heartbeat from the server");
            lifetime.Cancel();
            await watchdog.ConfigureAwait(false);
            return end ?? new SessionEnd("closed");
        }
        finally
        {
            lock (gate)
            {
                ended = true;
                foreach (var waiter in pending.Values)
                    waiter.TrySetException(new HeraldException("disconnected", "The WebSocket closed before the reply."));
                pending.Clear();
            }

            if (client.State == WebSocketState.Open)
            {
                using var close = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                try
                {
                    await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, close.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // Gone either way.
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            sendLock.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Brings the socket's subscriptions in line with the client's channel set.</summary>
    public override void ChannelsChanged()
    {
        lock (gate)
        {
            if (!IsOpen || ended)
                return;
            var wanted = Sink.Channels;
            foreach (var channel in carried.Keys.ToArray())
            {
                if (wanted.Contains(channel))
                    continue;
                carried.Remove(channel);
                Enqueue(NextId(), static (w, channel) =>
                {
                    w.WriteString("op", "unsubscribe");
                    w.WriteString("channel", channel);
                }, channel);
            }

            foreach (var channel in wanted)
            {
                if (carried.ContainsKey(channel))
                    continue;
                var id = NextId();
                var since = Sink.PositionOf(channel);
                var presence = Sink.PresenceOf(channel);
                Enqueue(id, static (w, state) =>
                {
                    w.WriteString("op", "subscribe");
                    w.WriteString("channel", state.channel);
                    if (state.since is { } position)
                    {
                        w.WriteStartObject("since");
                        w.WriteString("epoch", position.Epoch);
                        w.WriteNumber("offset", position.Offset);
                        w.WriteEndObject();
                    }

                    if (state.presence is { } asked)
                    {
                        w.WriteString("presence", PushSession.ModeName(asked.Mode));
                        if (asked.Mode == PresenceMode.List && asked.Since is { } from)
                        {
                            w.WriteStartObject("presenceSince");
                            w.WriteString("epoch", from.Epoch);
                            w.WriteNumber("seq", from.Seq);
                            w.WriteEndObject();
                        }
                    }
                }, (channel, since, presence));
                carried[channel] = id;
                subscribeIds[id] = channel;
            }
        }

        _ = FlushAsync();
    }

    /// <summary>Sends a request and returns its reply (throws the server's error, <c>timeout</c> or <c>disconnected</c>).</summary>
    public async Task<byte[]> RequestAsync<TState>(Action<Utf8JsonWriter, TState> write, TState state, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        long id;
        lock (gate)
        {
            if (!IsOpen || ended)
                throw new HeraldException("disconnected", "The WebSocket is not open.");
            id = NextId();
            pending[id] = reply;
            Enqueue(id, write, state);
        }

        _ = FlushAsync();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Options.RequestTimeout);
        try
        {
            return await reply.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HeraldException("timeout", $"No reply within {Options.RequestTimeout.TotalSeconds:0.#} s.", null, e);
        }
        finally
        {
            lock (gate)
                pending.Remove(id);
        }
    }

    private long NextId() => ++nextId;

    private void Enqueue<TState>(long id, Action<Utf8JsonWriter, TState> write, TState state)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("id", id);
            write(writer, state);
            writer.WriteEndObject();
        }

        outbox.Add(buffer.WrittenSpan.ToArray());
    }

    /// <summary>Sends what is queued, in order, one frame per batch; one flusher at a time.</summary>
    private async Task FlushAsync()
    {
        lock (gate)
        {
            if (flushing)
                return;
            flushing = true;
        }

        try
        {
            while (true)
            {
                byte[] frame;
                lock (gate)
                {
                    if (outbox.Count == 0 || ended)
                    {
                        flushing = false;
                        return;
                    }

                    frame = Join(outbox);
                    outbox.Clear();
                }

                await SendAsync(frame).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            lock (gate)
                flushing = false;
            connection?.Cancel();
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        var client = socket ?? throw new InvalidOperationException("not connected");
        var token = connection?.Token ?? CancellationToken.None;
        await sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await client.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, token).ConfigureAwait(false);
        }
        finally
        {
            sendLock.Release();
        }
    }

    private static byte[] Join(List<byte[]> messages)
    {
        if (messages.Count == 1)
            return messages[0];
        var length = messages.Sum(m => m.Length) + messages.Count - 1;
        var frame = new byte[length];
        var at = 0;
        foreach (var message in messages)
        {
            if (at > 0)
                frame[at++] = (byte)'\n';
            message.CopyTo(frame, at);
            at += message.Length;
        }

        return frame;
    }

    /// <summary>Where the channels the server subscribes at connect (a personal channel) resume; null when none has a position.</summary>
    private string? ConnectCursor()
    {
        var known = new List<KeyValuePair<string, Position>>();
        foreach (var channel in Sink.Channels)
        {
            if (Sink.IsServerChannel(channel) && Sink.PositionOf(channel) is { } position)
                known.Add(new(channel, position));
        }

        return known.Count == 0 ? null : HeraldCursor.Encode(known);
    }

    private static Uri WebSocketUri(Uri baseAddress, string? cursor)
    {
        var builder = new UriBuilder(new Uri(baseAddress, "v1/ws"));
        builder.Scheme = builder.Scheme == "https" ? "wss" : "ws";
        if (cursor is not null)
            builder.Query = "cursor=" + cursor;
        return builder.Uri;
    }
}
