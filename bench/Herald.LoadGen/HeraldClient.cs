using System.Text;
using Herald.LoadGen.Wire;

namespace Herald.LoadGen;

/// <summary>Herald's transports as docs/protocol.md defines them (and RawBroadcaster, which speaks Herald's WebSocket format).</summary>
internal static class HeraldClient
{
    private static readonly byte[] s_pong = "{\"op\":\"pong\"}"u8.ToArray();

    /// <summary>
    /// <c>/v1/ws</c>: upgrade, <c>subscribe</c>, then '\n'-separated JSON messages in text frames.
    /// RawBroadcaster (<paramref name="subscribe"/> false) greets with a <c>subscribed</c> message itself.
    /// </summary>
    public static async Task WebSocketAsync(Subscriber subscriber, Endpoint endpoint, string path, bool subscribe, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        await WebSocketWire.UpgradeAsync(connection, endpoint, path, cancellationToken);
        if (endpoint.NoSubscribe)
            subscriber.Acked.TrySetResult(true);
        else if (subscribe)
            await WebSocketWire.SendTextAsync(connection, Encoding.UTF8.GetBytes($"{{\"id\":1,\"op\":\"subscribe\",\"channel\":\"{subscriber.Channel}\"}}"), cancellationToken);
        var sink = new MessageSink(subscriber);
        var ended = await WebSocketWire.ReceiveAsync(connection, new RecordSplitter((byte)'\n', messageEndsRecord: true), sink, subscriber, async () =>
        {
            if (!subscriber.PingPending)
                return;
            subscriber.PingPending = false;
            await WebSocketWire.SendTextAsync(connection, s_pong, cancellationToken);
        }, cancellationToken);
        subscriber.Error ??= ended;
    }

    /// <summary>SSE (<c>event:</c>/<c>data:</c> lines, a blank line ends an event) or NDJSON (one object per line) over one chunked response.</summary>
    public static async Task PushAsync(Subscriber subscriber, Endpoint endpoint, string path, bool sse, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        await HttpWire.GetAsync(connection, endpoint, $"{path}?channel={subscriber.Channel}", null, cancellationToken);
        var head = await connection.ReadHeadAsync(cancellationToken);
        if (head.Status != 200)
            throw new IOException($"{path} answered {head.Status}");
        IRecordSink sink = sse ? new SseSink(subscriber) : new MessageSink(subscriber);
        await HttpWire.ReadBodyAsync(connection, head, new RecordSplitter((byte)'\n', messageEndsRecord: false), sink, subscriber, cancellationToken);
        subscriber.Error ??= "the server ended the response";
    }

    /// <summary>Keeps one poll outstanding on one keep-alive connection: re-issued with the answer's cursor as soon as it is answered.</summary>
    public static async Task LongPollAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        var sink = new PollSink(subscriber);
        var splitter = new RecordSplitter(0x1e, messageEndsRecord: true); // JSON holds no 0x1e: the whole answer is one record
        while (true)
        {
            var query = $"/v1/poll?channel={subscriber.Channel}&wait={endpoint.PollWaitSeconds}" + (sink.Cursor is null ? "" : "&cursor=" + sink.Cursor);
            await HttpWire.GetAsync(connection, endpoint, query, null, cancellationToken);
            // The server holds the poll from here on: the first one counts as the subscription.
            subscriber.Acked.TrySetResult(true);
            var head = await connection.ReadHeadAsync(cancellationToken);
            sink.Status = head.Status;
            if (!await HttpWire.ReadBodyAsync(connection, head, splitter, sink, subscriber, cancellationToken))
                throw new IOException("The server closed the connection during a poll.");
            if (head.Status == 429)
                await Task.Delay(1000, cancellationToken);
            else if (head.Status != 200)
                throw new IOException($"/v1/poll answered {head.Status}: {subscriber.Error}");
        }
    }

    /// <summary>One JSON message per record.</summary>
    private sealed class MessageSink(Subscriber subscriber) : IRecordSink
    {
        public void OnRecord(ReadOnlySpan<byte> record, long now) => subscriber.OnMessage(record, now);
    }

    /// <summary>SSE lines: <c>event: name</c> and <c>data: json</c> pair up; comments and ids are skipped.</summary>
    private sealed class SseSink(Subscriber subscriber) : IRecordSink
    {
        private int _event; // 0 none, 1 publication, 2 subscribed, 3 other

        public void OnRecord(ReadOnlySpan<byte> line, long now)
        {
            if (line.StartsWith("event: "u8))
            {
                var name = line[7..];
                _event = name.SequenceEqual("publication"u8) ? 1 : name.SequenceEqual("subscribed"u8) ? 2 : 3;
                if (_event == 3)
                    subscriber.Error ??= "event: " + Encoding.UTF8.GetString(name);
            }
            else if (line.StartsWith("data: "u8))
            {
                if (_event == 1)
                    subscriber.OnPublication(line[6..], now);
                else if (_event == 2)
                    subscriber.OnSubscribed(line[6..]);
                _event = 0;
            }
        }
    }

    /// <summary>
    /// A poll answer, <c>{"cursor":"…","channels":{…},"publications":[{…},…],"more":false}</c>: the cursor
    /// and each publication (split at <c>{"type":"publication"</c>; payloads never hold that text).
    /// </summary>
    internal sealed class PollSink(Subscriber subscriber) : IRecordSink
    {
        private static readonly byte[] s_marker = "{\"type\":\"publication\""u8.ToArray();

        public string? Cursor { get; private set; }

        public int Status { get; set; }

        public void OnRecord(ReadOnlySpan<byte> body, long now)
        {
            if (Status != 200)
            {
                subscriber.Error ??= $"{Status} " + Encoding.UTF8.GetString(body[..Math.Min(body.Length, 300)]);
                return;
            }

            var at = body.IndexOf("\"cursor\":\""u8);
            if (at >= 0)
            {
                var value = body[(at + 10)..];
                Cursor = Encoding.ASCII.GetString(value[..value.IndexOf((byte)'"')]);
            }

            // History is bounded (Herald:DefaultPolicy:HistorySize): a poll that fell further behind is
            // answered with an explicit reset, never a silent gap.
            if (body[..Math.Max(0, body.IndexOf("\"publications\":"u8))].IndexOf("\"recovered\":false"u8) >= 0)
                subscriber.OnReset();

            var publications = body.IndexOf("\"publications\":["u8);
            if (publications < 0)
                return;
            var rest = body[publications..];
            var next = rest.IndexOf(s_marker);
            while (next >= 0)
            {
                rest = rest[next..];
                var end = rest[1..].IndexOf(s_marker);
                var one = end < 0 ? rest : rest[..(end + 1)];
                subscriber.OnPublication(one, now);
                next = end < 0 ? -1 : end + 1;
            }
        }
    }
}
