using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// <c>--target signalr</c>: the ASP.NET Core SignalR JSON hub protocol over a raw ClientWebSocket,
/// against bench/peers/SignalRPeer. Connects straight to <c>ws://HOST/hub</c> (no negotiate),
/// handshakes, invokes <c>Join(channel)</c> and counts the <c>m</c> invocations. SignalR has no
/// offsets: the publisher puts its worker number <c>w</c> and that worker's sequence number
/// <c>s</c> in the payload (each worker publishes one at a time, so its messages arrive in order),
/// and a subscriber's <see cref="Subscriber.Last"/> is the sum of the last <c>s</c> of every worker,
/// comparable with the server's count of broadcasts (<c>GET /published/{group}</c>).
/// </summary>
internal static class SignalRClient
{
    private const byte Separator = 0x1e;
    private static readonly byte[] s_handshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] s_ping = "{\"type\":6}\u001e"u8.ToArray();
    private static readonly ConcurrentDictionary<ClientWebSocket, SemaphoreSlim> s_open = new();
    private static int s_pinging;

    /// <summary><c>--target signalr</c> also selects the SignalR "transport" (options: last one wins), so fanout and idle run it unchanged.</summary>
    public static string[] WithTarget(string[] args)
    {
        // Other targets (herald, socketio, ...) are left to their own dispatch.
        var at = Array.IndexOf(args, "--target");
        return at >= 0 && at + 1 < args.Length && args[at + 1] == "signalr" ? [.. args, "--transport", "signalr"] : args;
    }

    public static async Task RunAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        // The server pings every 15 s; our own pings (one loop for all connections) keep us inside its 30 s client timeout.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(endpoint.WebSocketUri) { Path = "/hub" }.Uri;
        await socket.ConnectAsync(uri, endpoint.Invoker, cancellationToken);
        await socket.SendAsync(s_handshake, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var join = Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Join\",\"arguments\":[\"{subscriber.Channel}\"]}}\u001e");
        await socket.SendAsync(join, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        using var sending = new SemaphoreSlim(1);
        s_open[socket] = sending;
        StartPinging();
        try
        {
            await ReceiveAsync(socket, subscriber, bufferBytes, cancellationToken);
        }
        finally
        {
            s_open.TryRemove(socket, out _);
            // The ping loop may hold the send lock for this socket; let it finish before the dispose.
            await sending.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
    }

    private static async Task ReceiveAsync(ClientWebSocket socket, Subscriber subscriber, int bufferBytes, CancellationToken cancellationToken)
    {
        var reader = new MessageReader(socket, bufferBytes);
        var kept = 0;
        var handshaken = false;
        var last = new long[8];
        while (await reader.ReceiveAsync(subscriber, kept, cancellationToken) is { } message)
        {
            var now = Stopwatch.GetTimestamp();
            var pending = message.Span;
            long publications = 0;
            while (true)
            {
                var end = pending.IndexOf(Separator);
                if (end < 0)
                    break;
                var record = pending[..end];
                pending = pending[(end + 1)..];
                if (!handshaken)
                {
                    handshaken = true;
                    if (record.IndexOf("\"error\""u8) >= 0)
                        throw new InvalidOperationException("handshake refused: " + Encoding.UTF8.GetString(record));
                    continue;
                }

                if (OnRecord(subscriber, record, now, ref last))
                    publications++;
            }

            // A record split across WebSocket messages: keep its start.
            kept = reader.Keep(pending);
            if (publications > 0)
            {
                subscriber.Frames++;
                subscriber.FramePublications += publications;
            }
        }
    }

    /// <summary>One hub message: an <c>m</c> invocation (a publication), the Join completion, a ping or a close.</summary>
    private static bool OnRecord(Subscriber subscriber, ReadOnlySpan<byte> record, long now, ref long[] last)
    {
        var head = record[..Math.Min(record.Length, 48)];
        if (head.StartsWith("{\"type\":1,"u8))
        {
            if (head.IndexOf("\"target\":\"m\""u8) < 0)
                return false;
            OnPublication(subscriber, record, now, ref last);
            return true;
        }

        if (head.StartsWith("{\"type\":3,"u8))
        {
            if (record.IndexOf("\"result\":true"u8) >= 0)
            {
                subscriber.Last = 0;
                subscriber.Acked.TrySetResult(true);
            }
            else
            {
                subscriber.Error ??= "Join failed: " + Encoding.UTF8.GetString(record);
                subscriber.Acked.TrySetResult(false);
            }
        }
        else if (head.StartsWith("{\"type\":7"u8))
        {
            subscriber.Error ??= "close: " + Encoding.UTF8.GetString(record);
        }

        return false;
    }

    /// <summary>The payload is one JSON string argument, so its keys arrive escaped: <c>{\"w\":0,\"s\":12,\"t\":…}</c>.</summary>
    private static void OnPublication(Subscriber subscriber, ReadOnlySpan<byte> record, long now, ref long[] last)
    {
        var worker = (int)Subscriber.Number(record, "\\\"w\\\":"u8);
        var sequence = Subscriber.Number(record, "\\\"s\\\":"u8);
        if (worker < 0 || sequence < 0)
        {
            subscriber.Error ??= "unexpected message: " + Encoding.UTF8.GetString(record[..Math.Min(record.Length, 300)]);
            return;
        }

        if (worker >= last.Length)
            Array.Resize(ref last, Math.Max(worker + 1, last.Length * 2));
        var previous = last[worker];
        if (sequence != previous + 1)
        {
            if (sequence > previous + 1)
                subscriber.Gaps += sequence - previous - 1;
            else
                subscriber.Duplicates++;
        }

        if (sequence > previous)
        {
            subscriber.Last += sequence - previous;
            last[worker] = sequence;
        }

        subscriber.Received++;
        subscriber.LastReceivedTicks = now;
        var sent = Subscriber.Number(record, "\\\"t\\\":"u8);
        if (sent > 0)
            Latency.Record(now - sent);
    }

    /// <summary>One loop for every connection of the process: a hub ping each 10 s.</summary>
    private static void StartPinging()
    {
        if (Interlocked.Exchange(ref s_pinging, 1) == 1)
            return;
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
            while (await timer.WaitForNextTickAsync())
                await Task.WhenAll(s_open.Select(pair => PingAsync(pair.Key, pair.Value)));
        });
    }

    private static async Task PingAsync(ClientWebSocket socket, SemaphoreSlim sending)
    {
        if (!await sending.WaitAsync(0))
            return;
        try
        {
            if (socket.State == WebSocketState.Open)
                await socket.SendAsync(s_ping, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
#pragma warning disable CA1031 // A failed ping shows up as the connection's own receive error.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            sending.Release();
        }
    }

    /// <summary>The publisher's body: <c>{"w":worker,"s":sequence,"t":timestamp,"p":"xx…"}</c>, <paramref name="payloadBytes"/> long.</summary>
    /// <summary>Publishes to the peer: <c>POST /publish/{group}</c>, body from <see cref="Body"/>.</summary>
    public static Publisher Publisher(Connector connector, Uri baseUri, string group, int payloadBytes) =>
        new(connector, baseUri, $"publish/{group}", apiKey: null, (worker, sent, timestamp) => Body(worker, sent, timestamp, payloadBytes));

    public static byte[] Body(int worker, long sequence, long timestamp, int payloadBytes)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"w\":{worker},\"s\":{sequence},\"t\":{timestamp},\"p\":\"");
        var pad = Math.Max(0, payloadBytes - head.Length - 2);
        return Encoding.ASCII.GetBytes(head + new string('x', pad) + "\"}");
    }

    /// <summary>How many publishes the server broadcast to the group: the "top" every subscriber's <see cref="Subscriber.Last"/> should reach.</summary>
    public static async Task<long> TopAsync(Endpoint endpoint, string channel)
    {
        var text = await endpoint.Client.GetStringAsync(endpoint.Uri("/published/" + Uri.EscapeDataString(channel)));
        return Utf8Parser.TryParse(Encoding.ASCII.GetBytes(text), out long value, out _) ? value : -1;
    }
}
