using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Herald.Hub;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports.Push;

/// <summary>
/// The part SSE and HTTP streaming share: one long response that a <see cref="Session"/> writes
/// into. Each batch is written into the response's <see cref="PipeWriter"/> and flushed once; every
/// publication gets the connection's cursor in front of its shared bytes; subscribe replies are
/// rendered when the writer reaches them; heartbeats are queued only on an idle connection.
/// </summary>
internal abstract class PushTransport : ISessionTransport, IConnection
{
    private readonly HttpContext _context;
    private readonly PipeWriter _output;
    private readonly CursorTracker _cursor;
    private Task<FlushResult>? _pendingFlush;
    private Session? _session;

    protected PushTransport(HttpContext context, CursorTracker cursor)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _output = context.Response.BodyWriter;
        _cursor = cursor;
    }

    public abstract WireFormat Format { get; }

    /// <inheritdoc/>
    public abstract string Transport { get; }

    public Session Session => _session ?? throw new InvalidOperationException("The transport has no session yet.");

    public CursorTracker Cursor => _cursor;

    /// <summary>The heartbeat message, in <see cref="Format"/>.</summary>
    protected abstract ReadOnlyMemory<byte> Heartbeat { get; }

    public void Attach(Session session) => _session = session;

    /// <summary>Sets the response headers; called before the response starts.</summary>
    public abstract void PrepareResponse(HttpResponse response);

    /// <summary>Writes what goes before the first message (SSE: <c>retry:</c>); not flushed.</summary>
    public virtual void WritePreamble(PipeWriter output)
    {
    }

    public async ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            if (message.Publication is { } publication)
            {
                _cursor.Advance(publication);
                WritePublication(_output, _cursor, message.Bytes.Span);
            }
            else if (SubscribeReply.TryGet(message.Bytes, out var reply))
            {
                _cursor.Set(reply.Channel, reply.Position);
                WriteSubscribed(_output, _cursor, reply.Entry);
            }
            else if (UnsubscribedNotice.TryGet(message.Bytes, out var notice))
            {
                _cursor.Remove(notice.Channel);
                WriteUnsubscribed(_output, _cursor, notice.Channel);
            }
            else
            {
                _output.Write(message.Bytes.Span);
            }
        }

        // Kestrel aborts the connection when a flush is cancelled, which would cut the slow
        // consumer's goodbye. So the flush itself is not cancelled: only the wait for it is, and
        // CloseAsync lets it finish before writing the disconnect message.
        var flush = _output.FlushAsync(CancellationToken.None);
        if (flush.IsCompletedSuccessfully)
            return;

        _pendingFlush = flush.AsTask();
        await _pendingFlush.WaitAsync(cancellationToken);
        _pendingFlush = null;
    }

    public async ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);

        // The client is gone: nobody would read the goodbye.
        if (_context.RequestAborted.IsCancellationRequested)
            return;

        if (_pendingFlush is { IsCompleted: false } pending)
        {
            try
            {
                await pending.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The client has not read the last batch within the close timeout: drop it.
                _context.Abort();
                return;
            }
        }

        WriteDisconnect(_output, reason);
        await _output.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// A heartbeat on every tick of the node's timer, busy or not: the connection is never silent
    /// for longer than <see cref="TransportOptions.HeartbeatInterval"/> (15 s), and a dozen bytes
    /// per interval cost nothing next to the traffic of a busy one.
    /// </summary>
    public void OnHeartbeat(DateTimeOffset now) => _session?.TrySend(Heartbeat);

    /// <summary>Writes one publication: <paramref name="shared"/> is its bytes in <see cref="Format"/>, shared by every recipient.</summary>
    protected abstract void WritePublication(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> shared);

    /// <summary>Writes a <c>subscribed</c> message whose <c>channels</c> object holds <paramref name="entry"/>.</summary>
    protected abstract void WriteSubscribed(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> entry);

    /// <summary>Writes the <c>unsubscribed</c> message of a channel the server unsubscribed; <paramref name="cursor"/> no longer holds it.</summary>
    protected abstract void WriteUnsubscribed(PipeWriter output, CursorTracker cursor, string channel);

    protected abstract void WriteDisconnect(PipeWriter output, DisconnectReason reason);

    /// <summary><c>{"code":3008,"reason":"slow","reconnect":true}</c>, with <c>"type":"disconnect"</c> first when <paramref name="typed"/>.</summary>
    protected static void WriteDisconnectJson(PipeWriter output, DisconnectReason reason, bool typed)
    {
        ArgumentNullException.ThrowIfNull(reason);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        if (typed)
            writer.WriteString("type"u8, "disconnect"u8);
        writer.WriteNumber("code"u8, reason.Code);
        writer.WriteString("reason"u8, reason.Reason);
        writer.WriteBoolean("reconnect"u8, reason.Reconnect);
        writer.WriteEndObject();
    }
}
