using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Herald.LoadGen.Wire;

/// <summary>
/// The client side of RFC 6455 over a <see cref="Connection"/>: the upgrade, masked frames out,
/// and a receive loop that hands the payload of text frames to a <see cref="RecordSplitter"/>
/// without copying it. Pings are answered with pongs; a close frame ends the loop.
/// </summary>
internal static class WebSocketWire
{
    private const byte Text = 0x1, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>Sends the upgrade request for <paramref name="pathAndQuery"/> and reads the 101.</summary>
    public static async Task UpgradeAsync(Connection connection, Endpoint endpoint, string pathAndQuery, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await connection.SendAsync(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: {endpoint.HostPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n", cancellationToken);
        var head = await connection.ReadHeadAsync(cancellationToken);
        if (head.Status != 101)
            throw new IOException($"GET {pathAndQuery} answered {head.Status} instead of 101.");
    }

    /// <summary>A masked client frame (text unless told) holding <paramref name="payload"/>.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload, byte opcode = Text)
    {
        var header = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[header + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        if (header == 2)
        {
            frame[1] = (byte)(0x80 | payload.Length);
        }
        else if (header == 4)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
        }

        var mask = frame.AsSpan(header, 4);
        Random.Shared.NextBytes(mask);
        var body = frame.AsSpan(header + 4);
        payload.CopyTo(body);
        for (var i = 0; i < body.Length; i++)
            body[i] ^= mask[i & 3];
        return frame;
    }

    public static ValueTask SendTextAsync(Connection connection, ReadOnlySpan<byte> payload, CancellationToken cancellationToken) =>
        connection.SendAsync(Frame(payload), cancellationToken);

    /// <summary>
    /// Receives until the server closes: the payload of every text (and continuation) frame goes to
    /// <paramref name="splitter"/>, which calls <paramref name="sink"/> once per record.
    /// <paramref name="afterRead"/> runs after each read's records (answers that the records asked for).
    /// Returns the close frame's status and reason, or why the connection ended.
    /// </summary>
    public static async Task<string> ReceiveAsync(Connection connection, RecordSplitter splitter, IRecordSink sink, Subscriber subscriber, Func<ValueTask>? afterRead, CancellationToken cancellationToken)
    {
        long remaining = 0; // payload bytes of the current data frame still to come
        var fin = false;
        var messagePublications = subscriber.Received;
        var now = Stopwatch.GetTimestamp();
        // Bytes may already be there (sent with the 101): process them before the first receive.
        do
        {
            byte[]? pong = null;
            while (true)
            {
                if (remaining > 0)
                {
                    if (!connection.FeedUnread(ref remaining, fin, splitter, sink, now))
                        break;
                    if (fin && remaining == 0)
                        subscriber.CountFrame(ref messagePublications);
                    continue;
                }

                var unread = connection.Unread;
                if (unread.Length < 2)
                    break;
                var opcode = (byte)(unread[0] & 0x0F);
                var length = (long)(unread[1] & 0x7F);
                var header = 2;
                if (length == 126)
                {
                    if (unread.Length < 4)
                        break;
                    length = BinaryPrimitives.ReadUInt16BigEndian(unread[2..]);
                    header = 4;
                }
                else if (length == 127)
                {
                    if (unread.Length < 10)
                        break;
                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(unread[2..]);
                    header = 10;
                }

                if (opcode >= Close)
                {
                    // Control frames are short (≤ 125 bytes) and never fragmented: take one whole.
                    if (unread.Length < header + length)
                        break;
                    var payload = unread.Slice(header, (int)length);
                    if (opcode == Close)
                        return payload.Length >= 2 ? $"closed by the server: {BinaryPrimitives.ReadUInt16BigEndian(payload)} {System.Text.Encoding.UTF8.GetString(payload[2..])}" : "closed by the server";
                    if (opcode == Ping)
                        pong = Frame(payload, Pong);
                    connection.Consume(header + (int)length);
                    continue;
                }

                fin = (unread[0] & 0x80) != 0;
                remaining = length;
                connection.Consume(header);
                if (length == 0 && fin)
                {
                    splitter.Feed([], true, sink, now);
                    subscriber.CountFrame(ref messagePublications);
                }
            }

            if (pong is not null)
                await connection.SendAsync(pong, cancellationToken);
            if (afterRead is not null)
                await afterRead();
            if (!await connection.ReceiveAsync(cancellationToken))
                break;
            now = Stopwatch.GetTimestamp();
        }
        while (true);

        return "the server closed the connection";
    }
}
