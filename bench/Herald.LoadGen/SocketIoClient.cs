using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// <c>--target socketio</c>: the same scenarios against the Socket.IO peer (bench/peers/socketio),
/// spoken as Engine.IO v4 / Socket.IO v5 over a raw <see cref="ClientWebSocket"/>. The generator
/// publishes <c>{"offset":N,"data":{"t":&lt;Stopwatch timestamp&gt;,"p":"xx…"}}</c> — the sequence
/// number and send time in the shape of a Herald publication — so <see cref="Subscriber"/> counts
/// latency, gaps and duplicates exactly as for Herald.
/// </summary>
internal static class SocketIoClient
{
    private static readonly byte[] s_connect = "40"u8.ToArray();
    private static readonly byte[] s_pong = "3"u8.ToArray();

    /// <summary>
    /// <c>--target socketio</c> becomes <c>--transport socketio</c> (and <c>--channel bench</c> unless
    /// one is given), so idle and fanout run it through <see cref="Crowd"/> unchanged. It runs before
    /// any other target handling, which then sees no <c>--target</c>.
    /// </summary>
    public static string[] WithTarget(string[] args)
    {
        var at = Array.IndexOf(args, "--target");
        if (at < 0 || at + 1 >= args.Length || args[at + 1] != "socketio")
            return args;
        string[] rest = [.. args[..at], .. args[(at + 2)..], "--transport", "socketio"];
        return Array.IndexOf(rest, "--channel") >= 0 ? rest : [.. rest, "--channel", "bench"];
    }

    public static Uri SocketUri(Endpoint endpoint) =>
        new UriBuilder(endpoint.Base) { Scheme = endpoint.Base.Scheme == "https" ? "wss" : "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri;

    /// <summary>
    /// One connection: open <c>0{…}</c> → <c>40</c> → <c>40{"sid":…}</c> → <c>420["join",room]</c> →
    /// ack <c>430[{"top":N}]</c>; then <c>42["m",{…}]</c> events, and <c>2</c> pings answered <c>3</c>.
    /// Over WebSocket every frame is one Engine.IO packet.
    /// </summary>
    public static async Task RunAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero; // Engine.IO pings at its own level.
        await socket.ConnectAsync(SocketUri(endpoint), endpoint.Invoker, cancellationToken);
        var join = Encoding.UTF8.GetBytes($"420[\"join\",\"{subscriber.Channel}\"]");

        var reader = new MessageReader(socket, bufferBytes);
        while (await reader.ReceiveAsync(subscriber, 0, cancellationToken) is { } message)
        {
            var now = Stopwatch.GetTimestamp();
            var packet = message.Span;
            if (packet.StartsWith("42"u8))
            {
                subscriber.OnPublication(packet, now);
                subscriber.Frames++;
                subscriber.FramePublications++;
            }
            else if (packet.SequenceEqual("2"u8))
            {
                await socket.SendAsync(s_pong, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            else if (packet.StartsWith("430"u8))
            {
                if (subscriber.Last < 0)
                    subscriber.Last = Math.Max(0, Subscriber.Number(packet, "\"top\":"u8));
                subscriber.Acked.TrySetResult(true);
            }
            else if (packet.StartsWith("40"u8))
            {
                await socket.SendAsync(join, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            else if (packet.StartsWith("0"u8))
            {
                await socket.SendAsync(s_connect, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            else if (packet.StartsWith("41"u8) || packet.StartsWith("44"u8) || packet.StartsWith("1"u8))
            {
                subscriber.Error ??= "socket.io: " + Encoding.UTF8.GetString(packet[..Math.Min(packet.Length, 300)]);
                return;
            }
        }
    }

    /// <summary>The room's top sequence number (<c>GET /top/:room</c>), or -1.</summary>
    public static async Task<long> TopAsync(Endpoint endpoint, string room)
    {
        var body = await endpoint.Client.GetByteArrayAsync(endpoint.Uri($"/top/{Uri.EscapeDataString(room)}"));
        return Subscriber.Number(body, "\"top\":"u8);
    }

    /// <summary>
    /// Publishes to the peer: <c>POST /publish/{room}</c> with <c>{"offset":N,"data":{"t":…,"p":"xx…"}}</c>,
    /// N counting on from the room's <paramref name="top"/>. One publishing connection by default
    /// (see <see cref="Fanout"/>): the number is given when the request is sent, so concurrent
    /// requests could reach the peer out of order and read as gaps.
    /// </summary>
    public static Publisher Publisher(Connector connector, Uri baseUri, string room, int payloadBytes, long top)
    {
        var sequence = Math.Max(0, top);
        return new Publisher(connector, baseUri, $"publish/{Uri.EscapeDataString(room)}", apiKey: null, (_, _, timestamp) =>
            LoadGen.Publisher.HeraldBody(timestamp, payloadBytes, string.Create(CultureInfo.InvariantCulture, $"\"offset\":{Interlocked.Increment(ref sequence)},")));
    }
}
