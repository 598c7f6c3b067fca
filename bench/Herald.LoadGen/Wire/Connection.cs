using System.Buffers.Text;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Herald.LoadGen.Wire;

/// <summary>
/// One client TCP connection spoken to by hand — HTTP/1.1 heads, WebSocket frames, chunked bodies —
/// so that every target is read by the same lean code: one receive buffer per connection, no
/// stream or WebSocket layers in between, no allocation per message. With
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> (set for generator processes) a receive
/// completes on the socket engine's thread, so a delivery costs one <c>recv</c> and the parse.
/// </summary>
internal sealed class Connection : IDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private byte[] _buffer;
    private int _start;
    private int _end;

    private Connection(Socket socket, int bufferBytes)
    {
        _socket = socket;
        _buffer = new byte[bufferBytes];
    }

    public static async Task<Connection> OpenAsync(Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        var socket = await endpoint.Connector.ConnectSocketAsync(endpoint.Server, cancellationToken);
        return new Connection(socket, bufferBytes);
    }

    /// <summary>The received bytes not consumed yet.</summary>
    public Span<byte> Unread => _buffer.AsSpan(_start, _end - _start);

    public void Consume(int count) => _start += count;

    /// <summary>
    /// Hands the unread bytes of the current frame or chunk (at most <paramref name="remaining"/>,
    /// which goes down) to <paramref name="splitter"/>; the piece ends a message when it is the last
    /// of one (<paramref name="lastOfMessage"/> and nothing remains). False when nothing is unread.
    /// </summary>
    public bool FeedUnread(ref long remaining, bool lastOfMessage, RecordSplitter splitter, IRecordSink sink, long now)
    {
        var unread = Unread;
        if (unread.IsEmpty)
            return false;
        var take = (int)Math.Min(remaining, unread.Length);
        remaining -= take;
        splitter.Feed(unread[..take], lastOfMessage && remaining == 0, sink, now);
        Consume(take);
        return true;
    }

    /// <summary>Receives more bytes after the unread ones; false when the peer closed.</summary>
    /// <remarks>Pooled builder: a receive that waits would otherwise allocate its state machine box, once per frame.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }

        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        _end += read;
        return read > 0;
    }

    /// <summary>Sends all of <paramref name="bytes"/>; concurrent senders (a pong and a chat message) take turns.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            while (!bytes.IsEmpty)
                bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken)..];
        }
        finally
        {
            _sending.Release();
        }
    }

    public ValueTask SendAsync(string text, CancellationToken cancellationToken) =>
        SendAsync(Encoding.ASCII.GetBytes(text), cancellationToken);

    /// <summary>Reads one response head (status line and headers) and consumes it; the body follows in <see cref="Unread"/>.</summary>
    public async ValueTask<HttpHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var unread = Unread;
            var end = unread.IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = HttpHead.Parse(unread[..end]);
                Consume(end + 4);
                return head;
            }

            if (!await ReceiveAsync(cancellationToken))
                throw new IOException("The server closed the connection before answering.");
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _sending.Dispose();
    }
}

/// <summary>What the generator needs of a response head: the status, how the body is framed, and the ETag.</summary>
internal readonly record struct HttpHead(int Status, long ContentLength, bool Chunked, string? ETag)
{
    public static HttpHead Parse(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK"
        var status = head.Length > 12 && Utf8Parser.TryParse(head[9..12], out int code, out _) ? code : 0;
        long length = -1;
        var chunked = false;
        string? etag = null;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
                continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
                length = Utf8Parser.TryParse(value, out long n, out _) ? n : -1;
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
                chunked = value.IndexOf("chunked"u8) >= 0;
            else if (Ascii.EqualsIgnoreCase(name, "etag"u8))
                etag = Encoding.ASCII.GetString(value);
        }

        return new HttpHead(status, length, chunked, etag);
    }

    /// <summary>A response with no body: 1xx, 204, 304.</summary>
    public bool Bodiless => Status is < 200 or 204 or 304;
}
