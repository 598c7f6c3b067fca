using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.ClientBench;

/// <summary>
/// A minimal Kestrel server that speaks just enough of Herald's protocol to feed one subscriber
/// pre-encoded publications as fast as it can: <c>/v1/stream</c> (NDJSON, 64 lines per flush) and
/// <c>/v1/ws</c> (frames of 32 '\n'-separated publications, as Herald coalesces). It replaces Herald
/// so the measure is the client's receive path, not the server's publish path.
/// </summary>
internal static class Feeder
{
    /// <summary>The address it listens on (the real port when started on port 0).</summary>
    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static async Task<WebApplication> StartAsync(string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/healthz", () => "ok");
        app.MapGet("/v1/stream", StreamAsync);
        app.Map("/v1/ws", WebSocketAsync);
        await app.StartAsync();
        return app;
    }

    private static async Task StreamAsync(HttpContext context)
    {
        context.Response.ContentType = "application/x-ndjson";
        var writer = context.Response.BodyWriter;
        var subscribed = System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"subscribed\",\"channels\":{{\"{Wire.Channel}\":{{\"recovered\":true,\"epoch\":\"{Wire.Epoch}\",\"offset\":0}}}},\"cursor\":\"AQ\"}}\n");
        await writer.WriteAsync(subscribed, context.RequestAborted);
        long offset = 0;
        try
        {
            while (!context.RequestAborted.IsCancellationRequested)
            {
                for (var i = 0; i < 64; i++)
                {
                    var span = writer.GetSpan(1024);
                    var length = Wire.StreamLine(span, ++offset);
                    span[length] = (byte)'\n';
                    writer.Advance(length + 1);
                }

                var flushed = await writer.FlushAsync(context.RequestAborted);
                if (flushed.IsCompleted || flushed.IsCanceled)
                    return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The receiver went away.
        }
    }

    private static async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 426;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        var first = await socket.ReceiveAsync(buffer, context.RequestAborted);
        _ = first; // {"id":1,"op":"subscribe",...}: the only request a receiver sends first.
        var reply = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":1,\"type\":\"subscribed\",\"channel\":\"{Wire.Channel}\",\"recovered\":true,\"epoch\":\"{Wire.Epoch}\",\"offset\":0}}");
        await socket.SendAsync(reply, WebSocketMessageType.Text, true, context.RequestAborted);
        // Read (and drop) whatever the client sends: pongs, a close.
        var draining = Task.Run(async () =>
        {
            var sink = new byte[4096];
            while (socket.State == WebSocketState.Open)
                await socket.ReceiveAsync(sink, CancellationToken.None);
        });
        var frame = new byte[64 * 1024];
        long offset = 0;
        try
        {
            while (socket.State == WebSocketState.Open && !context.RequestAborted.IsCancellationRequested)
            {
                var at = 0;
                for (var i = 0; i < 32; i++)
                {
                    if (i > 0)
                        frame[at++] = (byte)'\n';
                    at += Wire.Publication(frame.AsSpan(at), ++offset);
                }

                await socket.SendAsync(frame.AsMemory(0, at), WebSocketMessageType.Text, true, context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException)
        {
            // The receiver went away.
        }

        await Task.WhenAny(draining, Task.Delay(1000));
    }
}
