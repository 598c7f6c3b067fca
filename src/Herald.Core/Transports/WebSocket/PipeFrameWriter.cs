using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using Herald.Hub;

namespace Herald.Transports.WebSocket;

/// <summary>
/// The output side of a fast-path WebSocket (<see cref="WebSocketFastPath"/>): writes a session's
/// batches as RFC 6455 text frames straight into the connection's transport pipe, and serialises
/// them with the frames the framework's WebSocket writes itself (pongs to client pings, the close
/// frame), which reach the same pipe through <see cref="DuplexPipeStream"/>.
/// </summary>
/// <remarks>
/// Going through <see cref="System.Net.WebSockets.WebSocket.SendAsync(ReadOnlyMemory{byte}, System.Net.WebSockets.WebSocketMessageType, bool, CancellationToken)"/>
/// costs a send lock, a cancellation registration, a copy into the socket's own rented buffer and
/// a stream write that copies again into the pipe — per write, for every one of a fan-out's
/// thousands of sessions. Here a batch is framed in place: one copy of each shared message into
/// Kestrel's pinned pipe blocks, one flush, and Kestrel's socket sender sends what the pipe holds
/// in one <c>sendmsg</c>. Server frames are never masked (§5.1), so framing is a 2–10-byte header.
/// </remarks>
[SuppressMessage("Design", "CA1001", Justification = "The semaphore's wait handle is never created, so there is nothing to dispose.")]
internal sealed class PipeFrameWriter(PipeWriter output)
{
    // 64 KiB per frame: a burst becomes a few frames rather than one of up to the session's 1 MiB
    // budget, so a client with a 64 KiB inbound cap (Centrifugo's default) still reads it.
    internal const int FrameTargetBytes = 64 * 1024;

    private const byte FinText = 0x81;

    // Held by whoever writes into the pipe, for the write and its flush; uncontended but for a
    // pong or the close frame racing a batch.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Task<FlushResult>? _pendingFlush;

    /// <summary>Writes <paramref name="batch"/> as text frames of '\n'-joined messages, then flushes once.</summary>
    public async ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await WaitForPendingFlushAsync(cancellationToken);
            WriteFrames(output, batch);
            await FlushAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes bytes the framework's WebSocket produced (whole frames or parts of one), then flushes.</summary>
    public async ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await WaitForPendingFlushAsync(cancellationToken);
            output.Write(bytes.Span);
            await FlushAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Frames <paramref name="batch"/>: as few frames as <see cref="FrameTargetBytes"/> allows, messages joined by '\n'.</summary>
    internal static void WriteFrames(IBufferWriter<byte> output, IReadOnlyList<OutboundMessage> batch)
    {
        for (var start = 0; start < batch.Count;)
        {
            var end = FrameEnd(batch, start, out var length);
            WriteHeader(output, length);
            output.Write(batch[start].Bytes.Span);
            for (var i = start + 1; i < end; i++)
            {
                var separator = output.GetSpan(1);
                separator[0] = (byte)'\n';
                output.Advance(1);
                output.Write(batch[i].Bytes.Span);
            }

            start = end;
        }
    }

    /// <summary>
    /// Where the frame that starts with <c>batch[start]</c> ends (exclusive) and its payload length:
    /// it takes messages while they fit in <see cref="FrameTargetBytes"/>; a bigger message goes alone.
    /// </summary>
    internal static int FrameEnd(IReadOnlyList<OutboundMessage> batch, int start, out long length)
    {
        length = batch[start].Bytes.Length;
        var end = start + 1;
        while (end < batch.Count && length + 1 + batch[end].Bytes.Length <= FrameTargetBytes)
            length += 1 + batch[end++].Bytes.Length;
        return end;
    }

    /// <summary>FIN + text opcode, then the payload length in 7, 7+16 or 7+64 bits (§5.2).</summary>
    private static void WriteHeader(IBufferWriter<byte> output, long length)
    {
        var header = output.GetSpan(10);
        header[0] = FinText;
        int size;
        if (length < 126)
        {
            header[1] = (byte)length;
            size = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            header[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
            size = 4;
        }
        else
        {
            header[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(header[2..], (ulong)length);
            size = 10;
        }

        output.Advance(size);
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        // Kestrel aborts the connection when a flush is cancelled, which would cut the close frame
        // of a slow consumer. So the flush is never cancelled, only the wait for it; the next writer
        // (the close frame) waits for it to finish first.
        var flush = output.FlushAsync(CancellationToken.None);
        if (flush.IsCompletedSuccessfully)
            return;

        _pendingFlush = flush.AsTask();
        await WaitForPendingFlushAsync(cancellationToken);
    }

    private async ValueTask WaitForPendingFlushAsync(CancellationToken cancellationToken)
    {
        if (_pendingFlush is not { } pending)
            return;

        await pending.WaitAsync(cancellationToken);
        _pendingFlush = null;
    }
}
