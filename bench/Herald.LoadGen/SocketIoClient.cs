using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
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

    public static bool Is(Options options) => options.Get("transport") == "socketio";

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

        var buffer = new byte[bufferBytes];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                subscriber.Error ??= $"closed by the server: {socket.CloseStatus} {socket.CloseStatusDescription}";
                return;
            }

            length += result.Count;
            if (!result.EndOfMessage)
            {
                if (length == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                continue;
            }

            var now = Stopwatch.GetTimestamp();
            var packet = buffer.AsSpan(0, length);
            length = 0;
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

    /// <summary><see cref="Fanout.RunShareAsync"/> for the Socket.IO peer: no API key; the room's top comes from the peer.</summary>
    public static async Task<FanoutShare> RunShareAsync(Options options, bool publisher, Func<Task>? waitForGo)
    {
        var count = options.Int("subscribers", 100);
        var seconds = options.Double("seconds", 10);
        var rateText = options.Get("rate", "max");
        var rate = rateText == "max" ? 0 : double.Parse(rateText, CultureInfo.InvariantCulture);
        // One publishing connection by default: the sequence number is given when the request is
        // sent, so concurrent requests could reach the peer out of order and read as gaps.
        var workers = options.Int("publishers", 1);
        var room = options.Get("channel", "bench");
        var connector = Connector.Parse(options.Get("source-ips"));
        using var endpoint = new Endpoint(options.Required("url"), connector, 25);
        using var crowd = new Crowd(TransportKind.SocketIo, endpoint, 4096);
        var share = new FanoutShare();

        await crowd.OpenAsync(count, _ => room, options.Double("open-rate", 2000), 256, TimeSpan.FromSeconds(options.Double("open-timeout", 120)));
        share.Acked = crowd.Acked;
        share.Failed = crowd.Failed;
        if (share.Failed > 0)
            Console.Error.WriteLine($"{share.Failed} of {count} subscriptions failed: {crowd.FirstError()}");
        var initial = crowd.Subscribers.ToDictionary(s => s, s => s.Last);

        if (waitForGo is not null)
            await waitForGo();

        var cpu = Environment.CpuUsage.TotalTime;
        var go = Stopwatch.GetTimestamp();
        Latency.Reset();
        Latency.Recording = true;
        if (publisher)
        {
            var publishing = new SocketIoPublisher(connector, endpoint.Base, room, options.Int("payload", 100), await TopAsync(endpoint, room));
            await publishing.RunAsync(rate, workers, TimeSpan.FromSeconds(seconds));
            share.Published = publishing.Published;
            share.PublishErrors = publishing.Errors;
            share.PublishSeconds = Stopwatch.GetElapsedTime(go).TotalSeconds;
            if (publishing.FirstError is not null)
                Console.Error.WriteLine($"{publishing.Errors} publishes failed: {publishing.FirstError}");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds + 0.5));
        }

        share.Top = await TopAsync(endpoint, room);

        await Fanout.DrainAndTallyAsync(options, crowd, share, initial, go, cpu);
        share.Histogram = Fanout.Encode(Latency.Merge());
        await crowd.CloseAsync();
        return share;
    }
}

/// <summary>
/// Publishes to the Socket.IO peer over HTTP keep-alive: <c>POST /publish/{room}</c> with
/// <c>{"offset":N,"data":{"t":…,"p":"xx…"}}</c>, N counting on from the room's top; the data part is
/// <c>payload</c> bytes, as in <see cref="Publisher"/>.
/// </summary>
internal sealed class SocketIoPublisher(Connector connector, Uri baseUri, string room, int payloadBytes, long top)
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    private long _sequence = Math.Max(0, top);

    public long Published;
    public long Errors;
    public string? FirstError;

    public async Task RunAsync(double rate, int workers, TimeSpan duration)
    {
        using var client = new HttpClient(connector.CreateHandler(workers)) { Timeout = TimeSpan.FromSeconds(30), BaseAddress = baseUri };
        var path = $"publish/{Uri.EscapeDataString(room)}";
        var started = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            long sent = 0;
            while (started.Elapsed < duration)
            {
                if (rate > 0)
                {
                    var due = TimeSpan.FromSeconds((sent * workers + worker) / rate);
                    if (due >= duration)
                        break;
                    if (due > started.Elapsed)
                        await Task.Delay(due - started.Elapsed);
                }

                sent++;
                using var content = new ByteArrayContent(Body(Interlocked.Increment(ref _sequence), Stopwatch.GetTimestamp()));
                content.Headers.ContentType = s_json;
                try
                {
                    using var response = await client.PostAsync(path, content);
                    if (response.IsSuccessStatusCode)
                        Interlocked.Increment(ref Published);
                    else
                        Fail($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException e)
                {
                    Fail(e.Message);
                }
                catch (TaskCanceledException e)
                {
                    Fail(e.Message);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref Errors);
        FirstError ??= error;
    }

    private byte[] Body(long sequence, long timestamp)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(timestamp, digits, out var length);
        // {"t":<digits>,"p":"<pad>"} is payloadBytes long, as with Herald.
        var pad = Math.Max(0, payloadBytes - 13 - length);
        var body = new StringBuilder(payloadBytes + 40);
        body.Append("{\"offset\":").Append(sequence.ToString(CultureInfo.InvariantCulture))
            .Append(",\"data\":{\"t\":").Append(Encoding.ASCII.GetString(digits[..length])).Append(",\"p\":\"").Append('x', pad).Append("\"}}");
        return Encoding.ASCII.GetBytes(body.ToString());
    }
}
