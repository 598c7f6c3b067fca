using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Herald.Transports.WebSocket;

/// <summary>
/// On the HTTP pipeline's <c>/v1/ws</c>, puts an <see cref="InboundFrameGuard"/> between the
/// upgraded connection and the framework's WebSocket, as the fast path's
/// <see cref="DuplexPipeStream"/> does: the WebSocket middleware takes the stream from the
/// upgrade (HTTP/1.1) or extended CONNECT (HTTP/2) feature, so both are wrapped before it runs.
/// </summary>
internal static class GuardedUpgrade
{
    /// <summary>Wraps the request's upgrade features; the guard is then a feature of the request.</summary>
    public static Task Install(HttpContext context, RequestDelegate next, int maxMessageBytes)
    {
        var features = context.Features;
        var upgrade = features.Get<IHttpUpgradeFeature>();
        var connect = features.Get<IHttpExtendedConnectFeature>();
        if (upgrade is { IsUpgradableRequest: true } || connect is { IsExtendedConnect: true })
        {
            var guard = new InboundFrameGuard(maxMessageBytes);
            features.Set(guard);
            if (upgrade is not null)
                features.Set<IHttpUpgradeFeature>(new Upgrade(upgrade, guard));
            if (connect is not null)
                features.Set<IHttpExtendedConnectFeature>(new ExtendedConnect(connect, guard));
        }

        return next(context);
    }

    private sealed class Upgrade(IHttpUpgradeFeature inner, InboundFrameGuard guard) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<System.IO.Stream> UpgradeAsync() => new GuardedStream(await inner.UpgradeAsync(), guard);
    }

    private sealed class ExtendedConnect(IHttpExtendedConnectFeature inner, InboundFrameGuard guard) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<System.IO.Stream> AcceptAsync() => new GuardedStream(await inner.AcceptAsync(), guard);
    }

    /// <summary>The upgraded stream, every byte read passing the guard.</summary>
    private sealed class GuardedStream(System.IO.Stream inner, InboundFrameGuard guard) : System.IO.Stream
    {
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
            var read = await inner.ReadAsync(buffer, cancellationToken);
            guard.Inspect(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads are not supported.");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous writes are not supported.");

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
