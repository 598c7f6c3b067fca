using System.Text;
using Herald.LoadGen.Wire;

namespace Herald.LoadGen;

/// <summary>
/// <c>--target socketio</c>: bench/peers/socketio spoken as Engine.IO v4 / Socket.IO v5, over a raw
/// WebSocket (<c>--transport ws</c>) or HTTP long-polling (<c>--transport polling</c>), with no
/// Socket.IO client library. Open <c>0{…}</c> → <c>40</c> → <c>40{"sid":…}</c> →
/// <c>420["join",room]</c> → ack <c>430[{"top":N}]</c>; then <c>42["m",{"offset":N,"data":{…}}]</c>
/// events (the peer numbers each room's messages, so <see cref="Subscriber"/> counts them as Herald's),
/// and pings <c>2</c> answered <c>3</c>.
/// </summary>
internal static class SocketIoClient
{
    public static async Task WebSocketAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        await WebSocketWire.UpgradeAsync(connection, endpoint, "/socket.io/?EIO=4&transport=websocket", cancellationToken);
        var sink = new Sink(subscriber);
        // Over WebSocket every message is one packet.
        var ended = await WebSocketWire.ReceiveAsync(connection, new RecordSplitter(0x1e, messageEndsRecord: true), sink, subscriber, async () =>
        {
            while (sink.TakeReply() is { } reply)
                await WebSocketWire.SendTextAsync(connection, Encoding.UTF8.GetBytes(reply), cancellationToken);
        }, cancellationToken);
        subscriber.Error ??= ended;
    }

    /// <summary>
    /// HTTP long-polling on one keep-alive connection: a GET is held until the server has packets
    /// (0x1e-separated); what the client says (connect, join, pong) goes in a POST between two GETs.
    /// </summary>
    public static async Task PollingAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        var sink = new Sink(subscriber);
        var splitter = new RecordSplitter(0x1e, messageEndsRecord: true);
        var path = "/socket.io/?EIO=4&transport=polling";
        while (true)
        {
            await HttpWire.GetAsync(connection, endpoint, path, null, cancellationToken);
            await ReadAsync(connection, splitter, sink, subscriber, cancellationToken);
            if (sink.Sid is { } sid && !path.Contains("&sid=", StringComparison.Ordinal))
                path += "&sid=" + sid;
            while (sink.TakeReply() is { } reply)
            {
                await HttpWire.PostAsync(connection, endpoint, path, "text/plain;charset=UTF-8", reply, cancellationToken);
                await ReadAsync(connection, new RecordSplitter(0x1e, true), NoSink.Instance, null, cancellationToken);
            }
        }
    }

    private static async Task ReadAsync(Connection connection, RecordSplitter splitter, IRecordSink sink, Subscriber? subscriber, CancellationToken cancellationToken)
    {
        var head = await connection.ReadHeadAsync(cancellationToken);
        if (head.Status != 200)
            throw new IOException($"socket.io polling answered {head.Status}");
        if (!await HttpWire.ReadBodyAsync(connection, head, splitter, sink, subscriber, cancellationToken))
            throw new IOException("The server closed the connection during a poll.");
    }

    /// <summary>A chat message: <c>42["say",room,{…}]</c>, relayed by the peer to the room as <c>m</c>.</summary>
    public static byte[] Say(string room, byte[] payload) =>
        WebSocketWire.Frame(Encoding.UTF8.GetBytes($"42[\"say\",\"{room}\",{Encoding.ASCII.GetString(payload)}]"));

    /// <summary>One Engine.IO packet; the answers it asks for wait in <see cref="TakeReply"/>.</summary>
    private sealed class Sink(Subscriber subscriber) : IRecordSink
    {
        private readonly Queue<string> _replies = new();

        public string? Sid { get; private set; }

        public string? TakeReply() => _replies.TryDequeue(out var reply) ? reply : null;

        public void OnRecord(ReadOnlySpan<byte> packet, long now)
        {
            if (packet.StartsWith("42"u8))
            {
                if (subscriber.Sequenced)
                    subscriber.OnSequenced(packet, now, "\"w\":"u8, "\"s\":"u8, "\"t\":"u8);
                else
                    subscriber.OnPublication(packet, now);
            }
            else if (packet.SequenceEqual("2"u8))
            {
                _replies.Enqueue("3");
            }
            else if (packet.StartsWith("430"u8))
            {
                if (subscriber.Last < 0)
                    subscriber.Last = Math.Max(0, Subscriber.Number(packet, "\"top\":"u8));
                subscriber.Acked.TrySetResult(true);
            }
            else if (packet.StartsWith("40"u8))
            {
                _replies.Enqueue($"420[\"join\",\"{subscriber.Channel}\"]");
            }
            else if (packet.StartsWith("0"u8))
            {
                var at = packet.IndexOf("\"sid\":\""u8);
                if (at >= 0)
                {
                    var value = packet[(at + 7)..];
                    Sid = Encoding.ASCII.GetString(value[..value.IndexOf((byte)'"')]);
                }

                _replies.Enqueue("40");
            }
            else if (packet.StartsWith("41"u8) || packet.StartsWith("44"u8) || packet.StartsWith("1"u8))
            {
                subscriber.Error ??= "socket.io: " + Encoding.UTF8.GetString(packet[..Math.Min(packet.Length, 300)]);
            }
        }
    }

    private sealed class NoSink : IRecordSink
    {
        public static readonly NoSink Instance = new();

        public void OnRecord(ReadOnlySpan<byte> record, long now)
        {
        }
    }
}
