using System.Collections.Concurrent;
using System.Text;
using Herald.LoadGen.Wire;

namespace Herald.LoadGen;

/// <summary>
/// <c>--target signalr</c>: the ASP.NET Core SignalR JSON hub protocol over a raw WebSocket,
/// against bench/peers/SignalRPeer. Connects straight to <c>ws://HOST/hub</c> (no negotiate),
/// handshakes, invokes <c>Join(group)</c> and counts the <c>m</c> invocations. SignalR numbers
/// nothing, so every message carries its sender <c>w</c> (a publisher connection, or a chat member)
/// and that sender's sequence <c>s</c>: each sender sends one at a time, so its messages must arrive
/// in order, and <see cref="Subscriber.Last"/> (the sum over senders) must reach the peer's count of
/// broadcasts (<c>GET /published/{group}</c>).
/// </summary>
internal static class SignalRClient
{
    private static readonly byte[] s_handshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] s_ping = WebSocketWire.Frame("{\"type\":6}\u001e"u8);
    private static readonly ConcurrentDictionary<Connection, byte> s_open = new();
    private static int s_pinging;

    public static async Task RunAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var connection = await Connection.OpenAsync(endpoint, bufferBytes, cancellationToken);
        subscriber.Connection = connection;
        await WebSocketWire.UpgradeAsync(connection, endpoint, "/hub", cancellationToken);
        await WebSocketWire.SendTextAsync(connection, s_handshake, cancellationToken);
        await WebSocketWire.SendTextAsync(connection,
            Encoding.UTF8.GetBytes($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Join\",\"arguments\":[\"{subscriber.Channel}\"]}}\u001e"), cancellationToken);
        s_open[connection] = 0;
        StartPinging();
        try
        {
            // Records end with 0x1e and may span WebSocket messages.
            var ended = await WebSocketWire.ReceiveAsync(connection, new RecordSplitter(0x1e, messageEndsRecord: false), new Sink(subscriber), subscriber, null, cancellationToken);
            subscriber.Error ??= ended;
        }
        finally
        {
            s_open.TryRemove(connection, out _);
        }
    }

    /// <summary>A chat message: a non-blocking invocation of the hub's <c>Say(group, payload)</c>.</summary>
    public static byte[] Say(string group, byte[] payload) =>
        WebSocketWire.Frame(Encoding.UTF8.GetBytes(
            $"{{\"type\":1,\"target\":\"Say\",\"arguments\":[\"{group}\",\"{Encoding.ASCII.GetString(payload).Replace("\"", "\\\"", StringComparison.Ordinal)}\"]}}\u001e"));

    /// <summary>One hub message: the handshake answer, an <c>m</c> invocation, the Join completion, a ping or a close.</summary>
    private sealed class Sink(Subscriber subscriber) : IRecordSink
    {
        private bool _handshaken;

        public void OnRecord(ReadOnlySpan<byte> record, long now)
        {
            if (!_handshaken)
            {
                _handshaken = true;
                if (record.IndexOf("\"error\""u8) >= 0)
                    subscriber.Error ??= "handshake refused: " + Encoding.UTF8.GetString(record);
                return;
            }

            var head = record[..Math.Min(record.Length, 48)];
            if (head.StartsWith("{\"type\":1,"u8))
            {
                // The payload is one JSON string argument, so its keys arrive escaped: {\"w\":0,\"s\":12,\"t\":…}.
                if (!subscriber.OnSequenced(record, now, "\\\"w\\\":"u8, "\\\"s\\\":"u8, "\\\"t\\\":"u8))
                    subscriber.Error ??= "unexpected message: " + Encoding.UTF8.GetString(record[..Math.Min(record.Length, 300)]);
            }
            else if (head.StartsWith("{\"type\":3,"u8))
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
        }
    }

    /// <summary>One loop for every connection of the process: a hub ping each 10 s keeps us inside the server's 30 s client timeout.</summary>
    private static void StartPinging()
    {
        if (Interlocked.Exchange(ref s_pinging, 1) == 1)
            return;
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
            while (await timer.WaitForNextTickAsync())
            {
                foreach (var connection in s_open.Keys)
                {
                    try
                    {
                        await connection.SendAsync(s_ping, CancellationToken.None);
                    }
#pragma warning disable CA1031 // A failed ping shows up as the connection's own receive error.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }
            }
        });
    }
}
