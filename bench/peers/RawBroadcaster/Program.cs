// Peer baseline for Herald's idle-connection memory: the framework's own minimal WebSocket
// endpoint. GET /ws (and /v1/ws, where Herald.LoadGen connects) accepts a WebSocket and loops
// ReceiveAsync into a 16-byte buffer until the client closes. No keep-alive timer (a
// ManagedWebSocket keep-alive costs a Timer per socket) unless --keepalive SECONDS.
//
//   RawBroadcaster --urls http://127.0.0.1:PORT
//       [--keepalive S]        WebSocket keep-alive ping interval (default: off)
//       [--zero-read]          wait with ReceiveAsync(Memory<byte>.Empty) before each real receive
//       [--wait-for-data]      SocketTransportOptions.WaitForDataBeforeAllocatingBuffer (default true)
//       [--inline]             SocketTransportOptions.UnsafePreferInlineScheduling
//       [--io-queues N]        SocketTransportOptions.IOQueueCount
//       [--no-logging]         remove all logging providers
//       [--no-activity]        suppress the hosting layer's per-request Activity/diagnostics
//
// POST /broadcast: writes one pre-encoded text message (the request body, default "ping") to
// every open socket; replies with the number of sockets written.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;
bool Flag(string name) => config[name] is { } v && !string.Equals(v, "false", StringComparison.OrdinalIgnoreCase);

var zeroRead = Flag("zero-read");
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
var sockets = new ConcurrentDictionary<WebSocket, byte>();
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
    sockets.TryAdd(socket, 0);
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
        sockets.TryRemove(socket, out _);
    }
}

app.Map("/ws", Serve);
app.Map("/v1/ws", Serve);
app.MapGet("/healthz", () => "ok");
app.MapPost("/broadcast", async (HttpRequest request) =>
{
    using var reader = new StreamReader(request.Body);
    var text = await reader.ReadToEndAsync();
    var payload = System.Text.Encoding.UTF8.GetBytes(text.Length == 0 ? "ping" : text);
    var sent = 0;
    foreach (var socket in sockets.Keys)
    {
        try
        {
            await socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            sent++;
        }
        catch (WebSocketException)
        {
            // Closing socket; skip.
        }
    }

    return Results.Text(sent.ToString(CultureInfo.InvariantCulture));
});

app.Run();
