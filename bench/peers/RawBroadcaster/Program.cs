// The framework's own limit, as a peer: a minimal Kestrel WebSocket server with no channels, no
// history and no queues of its own. Two uses:
//
// Fan-out reference (bench.sh, --target raw). GET /ws (and /v1/ws) accepts a WebSocket and greets
// it with {"type":"subscribed","offset":N} (N = broadcasts so far). POST /broadcast takes the
// request body (a JSON value) and sends {"type":"publication","offset":N,"data":<body>} — encoded
// once, N numbering the broadcasts — to every open socket; it answers N once every send finished.
// GET /top answers {"top":N}. The generator counts gaps, duplicates and latency with the code it
// uses for Herald.
//   naive (default): one WebSocket.SendAsync per message per socket — the reference of Herald's
//                    "≥ 1.3× RawBroadcaster" target. Broadcasts are numbered and their sends issued
//                    under one async lock, so every socket sees them in order: ManagedWebSocket
//                    serialises concurrent sends on its send lock, first come first served.
//   --pack:          per-socket queue and one writer per socket that sends everything queued as
//                    one '\n'-separated frame (the calibration of what coalescing alone gives).
//
// Idle baseline (memory per connection): after the greeting a socket only loops ReceiveAsync into a
// 16-byte buffer until the client closes. No keep-alive timer unless --keepalive SECONDS.
//
//   RawBroadcaster --urls http://127.0.0.1:PORT [--pack] [--keepalive S] [--zero-read] [--wait-for-data false]
//                  [--inline] [--io-queues N] [--no-logging] [--no-activity]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using RawBroadcaster;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;
bool Flag(string name) => config[name] is { } v && !string.Equals(v, "false", StringComparison.OrdinalIgnoreCase);

var zeroRead = Flag("zero-read");
var pack = Flag("pack");
if (Flag("no-logging"))
    builder.Logging.ClearProviders();

builder.Services.Configure<SocketTransportOptions>(o =>
{
    if (config["wait-for-data"] is { } wait)
        o.WaitForDataBeforeAllocatingBuffer = !string.Equals(wait, "false", StringComparison.OrdinalIgnoreCase);
    if (Flag("inline"))
        o.UnsafePreferInlineScheduling = true;
    if (config["io-queues"] is { } queues)
        o.IOQueueCount = int.Parse(queues, CultureInfo.InvariantCulture);
});

if (Flag("no-activity"))
{
    // The hosting layer creates an Activity when its DiagnosticListener or ActivitySource has a
    // listener, or when logging is enabled; replace both with inert instances.
    builder.Services.AddSingleton(new DiagnosticListener("RawBroadcaster.Inert"));
    builder.Services.AddSingleton(new ActivitySource("RawBroadcaster.Inert"));
}

var app = builder.Build();
var broadcaster = new Broadcaster(pack);
var keepAlive = config["keepalive"] is { } seconds
    ? TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture))
    : Timeout.InfiniteTimeSpan;
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = keepAlive });

async Task Serve(HttpContext context)
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await broadcaster.AddAsync(socket);
    var buffer = new byte[16];
    try
    {
        while (true)
        {
            if (zeroRead)
            {
                var peek = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                    break;
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
                break;
        }

        if (socket.State == WebSocketState.CloseReceived)
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }
    catch (WebSocketException)
    {
        // Client went away without a close handshake.
    }
    catch (OperationCanceledException)
    {
        // Server shutting down.
    }
    finally
    {
        broadcaster.Remove(socket);
    }
}

app.Map("/ws", Serve);
app.Map("/v1/ws", Serve);
app.MapGet("/healthz", () => "ok");
app.MapGet("/top", () => Results.Text($"{{\"top\":{broadcaster.Top}}}", "application/json"));
app.MapPost("/broadcast", async (HttpRequest request) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    var offset = await broadcaster.BroadcastAsync(body.Length == 0 ? "null"u8.ToArray() : body.GetBuffer().AsMemory(0, (int)body.Length));
    return Results.Text(offset.ToString(CultureInfo.InvariantCulture));
});

app.Run();

namespace RawBroadcaster
{
    /// <summary>The open sockets and the broadcast counter; see the top of Program.cs for the two modes.</summary>
    internal sealed class Broadcaster(bool pack)
    {
        private readonly ConcurrentDictionary<WebSocket, Outbox?> _sockets = new();
        private readonly SemaphoreSlim _order = new(1, 1);
        private long _top;

        public long Top => Interlocked.Read(ref _top);

        /// <summary>Registers the socket and greets it with the current offset, in order with the broadcasts.</summary>
        public async Task AddAsync(WebSocket socket)
        {
            await _order.WaitAsync();
            Task send;
            try
            {
                var hello = Encoding.UTF8.GetBytes($"{{\"type\":\"subscribed\",\"offset\":{_top}}}");
                if (pack)
                {
                    var outbox = new Outbox(socket);
                    _sockets[socket] = outbox;
                    outbox.Enqueue(hello);
                    return;
                }

                _sockets[socket] = null;
                send = socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                _order.Release();
            }

            await send;
        }

        public void Remove(WebSocket socket) => _sockets.TryRemove(socket, out _);

        public async Task<long> BroadcastAsync(ReadOnlyMemory<byte> data)
        {
            List<Task>? pending = null;
            long offset;
            await _order.WaitAsync();
            try
            {
                offset = ++_top;
                var prefix = "{\"type\":\"publication\",\"offset\":"u8;
                var digits = offset.ToString(CultureInfo.InvariantCulture);
                var message = new byte[prefix.Length + digits.Length + 8 + data.Length + 1];
                prefix.CopyTo(message);
                Encoding.ASCII.GetBytes(digits, message.AsSpan(prefix.Length));
                ",\"data\":"u8.CopyTo(message.AsSpan(prefix.Length + digits.Length));
                data.Span.CopyTo(message.AsSpan(prefix.Length + digits.Length + 8));
                message[^1] = (byte)'}';
                foreach (var (socket, outbox) in _sockets)
                {
                    if (outbox is not null)
                    {
                        outbox.Enqueue(message);
                        continue;
                    }

                    // Issued in order under the lock; completes later when the socket's send lock or its pipe is busy.
                    var send = Send(socket, message);
                    if (!send.IsCompleted)
                        (pending ??= []).Add(send);
                }
            }
            finally
            {
                _order.Release();
            }

            if (pending is not null)
                await Task.WhenAll(pending);
            return offset;
        }

        private static async Task Send(WebSocket socket, byte[] message)
        {
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
            {
                // A closing socket: skip it.
            }
        }
    }

    /// <summary>--pack: what is queued for one socket leaves as one '\n'-separated frame, one writer at a time.</summary>
    internal sealed class Outbox(WebSocket socket)
    {
        private List<byte[]> _queued = [];
        private List<byte[]> _sending = [];
        private bool _writing;

        public void Enqueue(byte[] message)
        {
            lock (this)
            {
                _queued.Add(message);
                if (_writing)
                    return;
                _writing = true;
            }

            ThreadPool.UnsafeQueueUserWorkItem(static outbox => _ = outbox.WriteAsync(), this, preferLocal: false);
        }

        private async Task WriteAsync()
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                while (true)
                {
                    lock (this)
                    {
                        if (_queued.Count == 0)
                        {
                            _writing = false;
                            return;
                        }

                        (_queued, _sending) = (_sending, _queued);
                    }

                    var length = _sending.Sum(m => m.Length) + _sending.Count - 1;
                    if (buffer.Length < length)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
                    }
                    var at = 0;
                    foreach (var message in _sending)
                    {
                        if (at > 0)
                            buffer[at++] = (byte)'\n';
                        message.CopyTo(buffer, at);
                        at += message.Length;
                    }

                    _sending.Clear();
                    await socket.SendAsync(buffer.AsMemory(0, at), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
            {
                // A closing socket: nothing more goes to it (its queue stays marked as writing).
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
