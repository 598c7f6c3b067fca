using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Herald.Auth;
using Herald.Hub;
using Herald.Publishing;

namespace Herald.Transports.WebSocket;

/// <summary>
/// One accepted WebSocket: the <see cref="ISessionTransport"/> its session writes to, the receive
/// loop that runs the client's ops, and the heartbeat the <see cref="ConnectionRegistry"/> drives.
/// </summary>
/// <remarks>
/// Only the session's writer loop sends (data frames, then the close frame in
/// <see cref="CloseAsync"/>), so sends never race. Every close, whoever starts it, goes through
/// <see cref="Session.CloseAsync"/>; the receive loop keeps reading until the client's close frame
/// so that the client sees ours rather than a reset.
/// Idle, a connection holds no receive buffer: it waits with a zero-byte read and rents
/// <see cref="ReceiveChunkBytes"/> only while a message is arriving.
/// </remarks>
[SuppressMessage("Reliability", "CA1001", Justification = "RunAsync always ends by closing the session, which is what its DisposeAsync does.")]
internal sealed partial class WebSocketConnection : ISessionTransport, IConnection
{
    // 4 KiB: most client messages (subscribe, publish of a chat line) fit in one read.
    private const int ReceiveChunkBytes = 4096;

    private readonly System.Net.WebSockets.WebSocket _socket;
    private readonly WebSocketServices _services;
    private readonly Caller _caller;

    // Set on the fast path: data frames go straight into the connection's pipe.
    private readonly PipeFrameWriter? _frames;

    // Follows the inbound frame headers, so a message announced too large is refused on its header.
    private readonly InboundFrameGuard? _guard;
    private readonly TaskCompletionSource _receiveDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Session? _session;
    private SignalRateLimiter? _signalBuckets;
    private long _lastReceivedTicks;
    private long _lastWrittenTicks;
    private int _busy;
    private long _messages;

    /// <param name="socket">The accepted WebSocket; it reads, and writes its own control frames.</param>
    /// <param name="caller">Who connected.</param>
    /// <param name="services">The node's shared services.</param>
    /// <param name="frames">On the fast path, the writer of the connection's pipe that data frames go to; else they go through <paramref name="socket"/>.</param>
    /// <param name="guard">The frame-header reader of the stream <paramref name="socket"/> reads from, when there is one.</param>
    /// <param name="personalSince">The caller's auto-subscribed personal channels and where they resume; null when there are none.</param>
    public WebSocketConnection(System.Net.WebSockets.WebSocket socket, Caller caller, WebSocketServices services, PipeFrameWriter? frames = null, InboundFrameGuard? guard = null, PersonalPositions? personalSince = null)
    {
        _personal = personalSince;
        _guard = guard;
        guard?.Owner = this;
        _socket = socket;
        _frames = frames;
        _caller = caller;
        _services = services;
        _lastReceivedTicks = _lastWrittenTicks = services.Time.GetUtcNow().UtcTicks;
    }

    public WireFormat Format => WireFormat.Json;

    public string Transport => "ws";

    public Session Session => _session ?? throw new InvalidOperationException("The connection has not started.");

    /// <summary>Runs the connection until the client leaves or the session is closed, then disposes the socket.</summary>
    /// <remarks>
    /// The receive loop is this method's own: every async frame that is live while a connection
    /// idles is a heap box held for the connection's life, so the idle wait is one frame deep here.
    /// </remarks>
    public async Task RunAsync(CancellationToken requestAborted)
    {
        var session = _session = new Session(this, _services.Hub, _services.Options, _services.SessionLogger) { User = _caller.Kind == CallerKind.User ? _caller.User : null, UserInfo = _caller.Info };
        _services.Registry.Add(this);
        Log.Connected(_services.Logger, session.Id, _caller.User);
        DisconnectReason? reason = null;

        try
        {
            // A user's session is reachable by the per-user server API on every node from its first reply on.
            if (session.User is not null)
                await _services.UserCommands.EnsureListeningAsync(requestAborted);
            await SubscribePersonalAsync(session, requestAborted);
            while (reason is null)
            {
                // A zero-byte read waits for the next frame without holding a buffer (ManagedWebSocket
                // reads only the frame header into its own small buffer and returns Count 0).
                var first = await _socket.ReceiveAsync(Memory<byte>.Empty, requestAborted);
                reason = first.MessageType == WebSocketMessageType.Close
                    ? DisconnectReason.Normal
                    : await ReceiveMessageAsync(session, first, requestAborted);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client vanished without a close frame, or CloseAsync aborted a silent one.
            Log.ReceiveEnded(_services.Logger, session.Id, e);
            reason = DisconnectReason.ConnectionLost;
        }
        finally
        {
            _receiveDone.TrySetResult();
            _services.Registry.Remove(this);
        }

        await session.CloseAsync(reason ?? DisconnectReason.Normal);
        RemoveSummaries(session);
        _socket.Dispose();
    }

    public async ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken)
    {
        if (_frames is not null)
            await _frames.WriteAsync(batch, cancellationToken);
        else if (batch.Count == 1)
            await _socket.SendAsync(batch[0].Bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        else
            await SendCoalescedAsync(batch, cancellationToken);

        Volatile.Write(ref _lastWrittenTicks, _services.Time.GetUtcNow().UtcTicks);
    }

    /// <summary>
    /// Without the fast path's pipe: the same frames as <see cref="PipeFrameWriter.WriteFrames"/>,
    /// each payload joined in a pooled buffer and sent through the socket.
    /// </summary>
    private async ValueTask SendCoalescedAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken)
    {
        for (var start = 0; start < batch.Count;)
        {
            var end = PipeFrameWriter.FrameEnd(batch, start, out var length);
            if (end == start + 1)
            {
                await _socket.SendAsync(batch[start].Bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                start = end;
                continue;
            }

            var frame = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                var written = 0;
                for (var i = start; i < end; i++)
                {
                    if (i > start)
                        frame[written++] = (byte)'\n';
                    batch[i].Bytes.Span.CopyTo(frame.AsSpan(written));
                    written += batch[i].Bytes.Length;
                }

                await _socket.SendAsync(frame.AsMemory(0, written), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }

            start = end;
        }
    }

    public async ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync((WebSocketCloseStatus)reason.Code, reason.Reason, cancellationToken);

            // The receive loop ends on the client's close frame; a client that never answers is cut off.
            await _receiveDone.Task.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            Log.CloseHandshakeFailed(_services.Logger, _session?.Id ?? string.Empty, e);
        }
        finally
        {
            if (!_receiveDone.Task.IsCompleted)
                _socket.Abort();
        }
    }

    public void OnHeartbeat(DateTimeOffset now)
    {
        var session = _session;
        if (session is null || session.CloseReason is not null)
            return;

        // While an op runs (a long history replay) the loop does not read, so a pong may wait
        // unread: a client whose frames are still being written to counts as alive.
        var last = Volatile.Read(ref _lastReceivedTicks);
        if (Volatile.Read(ref _busy) != 0)
            last = Math.Max(last, Volatile.Read(ref _lastWrittenTicks));

        if (now.UtcTicks - last > _services.Options.Transports.WebSocketIdleTimeout.Ticks)
        {
            Log.IdleTimeout(_services.Logger, session.Id);
            _ = session.CloseAsync(WebSocketCodes.IdleTimeout);
            return;
        }

        session.TrySend(WebSocketReplies.Ping);
    }

    /// <summary>
    /// Reads the rest of the message whose first frame header <paramref name="first"/> announced and
    /// runs it; null to go on reading, or the reason to close the session with.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<DisconnectReason?> ReceiveMessageAsync(Session session, ValueWebSocketReceiveResult first, CancellationToken cancellationToken)
    {
        var max = _services.Options.Transports.MaxWebSocketMessageBytes;
        var message = ++_messages;
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
        try
        {
            var length = 0;
            var result = first;
            while (!result.EndOfMessage)
            {
                // Announced too large in a frame header (this message's, or a fragment's): refused
                // now, before any of the payload is read.
                if (_guard is not null && _guard.Refuses(message))
                    return await RefuseAsync(session, WebSocketCodes.MessageTooBig, buffer, cancellationToken);

                if (length == buffer.Length)
                    buffer = Grow(buffer, length, max);

                // Read at most one byte past the cap: that byte proves the message is too big.
                var room = Math.Min(buffer.Length, max + 1) - length;
                result = await _socket.ReceiveAsync(buffer.AsMemory(length, room), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                    return DisconnectReason.Normal;
                length += result.Count;
                if (length > max)
                    return await RefuseAsync(session, WebSocketCodes.MessageTooBig, buffer, cancellationToken);
            }

            Volatile.Write(ref _lastReceivedTicks, _services.Time.GetUtcNow().UtcTicks);
            if (first.MessageType == WebSocketMessageType.Binary)
                return await RefuseAsync(session, WebSocketCodes.UnsupportedData, buffer, cancellationToken);

            if (session.CloseReason is null)
                await HandleMessageAsync(session, buffer.AsMemory(0, length), cancellationToken);
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Grow(byte[] buffer, int length, int max)
    {
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, max + 1L));
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>
    /// A frame header announced more than the message limit (<see cref="InboundFrameGuard"/>): close
    /// with 1009 now. The close frame goes out on the send side while the receive waits for a
    /// payload the client may never send; the session's close timeout then aborts that receive.
    /// </summary>
    internal void OnMessageAnnouncedTooBig()
    {
        if (_session is { CloseReason: null } session)
        {
            Log.Refused(_services.Logger, session.Id, WebSocketCodes.MessageTooBig.Code, WebSocketCodes.MessageTooBig.Reason);
            _ = session.CloseAsync(WebSocketCodes.MessageTooBig);
        }
    }

    /// <summary>Closes the session with <paramref name="reason"/> and discards input until the client's close frame.</summary>
    private async Task<DisconnectReason> RefuseAsync(Session session, DisconnectReason reason, byte[] scratch, CancellationToken cancellationToken)
    {
        if (session.CloseReason is null)
            Log.Refused(_services.Logger, session.Id, reason.Code, reason.Reason);
        _ = session.CloseAsync(reason);
        while ((await _socket.ReceiveAsync(scratch.AsMemory(), cancellationToken)).MessageType != WebSocketMessageType.Close)
        {
        }

        return reason;
    }
}
