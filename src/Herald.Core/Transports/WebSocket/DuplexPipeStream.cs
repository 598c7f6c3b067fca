using System.IO.Pipelines;

namespace Herald.Transports.WebSocket;

/// <summary>
/// A connection's duplex pipe as the <see cref="System.IO.Stream"/> the framework's WebSocket runs on.
/// Its writes (pongs, the close frame) go through the <see cref="PipeFrameWriter"/> that also writes
/// the session's data frames, so the two never interleave in the pipe. Disposing it — which the WebSocket does when it is disposed or aborted — ends a read waiting on
/// a silent client and completes the output, so what was written (the close frame) is still sent
/// before Kestrel closes the connection. Every byte read passes the <see cref="InboundFrameGuard"/>.
/// </summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe, PipeFrameWriter frames, InboundFrameGuard guard) : System.IO.Stream
{
    private readonly System.IO.Stream input = pipe.Input.AsStream(leaveOpen: true);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await input.ReadAsync(buffer, cancellationToken);
        guard.Inspect(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        frames.WriteRawAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        frames.WriteRawAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Every write flushes.
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads are not supported.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous writes are not supported.");

    public override void Flush() => throw new NotSupportedException("Synchronous flushes are not supported.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            pipe.Input.CancelPendingRead();
            pipe.Output.Complete();
        }

        base.Dispose(disposing);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
