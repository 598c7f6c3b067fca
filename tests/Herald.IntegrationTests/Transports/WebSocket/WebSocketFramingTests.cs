using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>
/// The WebSocket's wire bytes, read with a bare TCP socket: data frames written straight into the
/// connection's pipe and the control frames the framework writes (pongs) must never interleave.
/// </summary>
public sealed class WebSocketFramingTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Pongs_answered_during_a_burst_arrive_as_whole_frames_between_whole_data_frames()
    {
        const string Channel = "news:framing";
        const int Publications = 1_000;
        using var timeout = new CancellationTokenSource(s_timeout);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, timeout.Token);
        var stream = tcp.GetStream();
        await HandshakeAsync(stream, timeout.Token);
        var reader = new FrameReader(stream);

        await stream.WriteAsync(ClientFrame(0x1, Encoding.UTF8.GetBytes($$"""{"id":1,"op":"subscribe","channel":"{{Channel}}"}""")), timeout.Token);
        // The node's heartbeat ({"type":"ping"}, every HeartbeatInterval on a shared tick) may come first.
        string type;
        do
        {
            var reply = await reader.ReadAsync(timeout.Token);
            Assert.Equal(0x1, reply.Opcode);
            type = JsonDocument.Parse(reply.Payload).RootElement.GetProperty("type").GetString()!;
        }
        while (type == "ping");
        Assert.Equal("subscribed", type);

        // Publish a burst while pinging: the server's pongs race its data frames for the pipe.
        using var http = server.CreateClient();
        var publishing = Task.Run(async () =>
        {
            for (var i = 1; i <= Publications; i++)
            {
                using var response = await http.PublishAsync(Channel, $$$"""{"data":{"n":{{{i}}},"pad":"{{{new string('x', i % 300)}}}"}}""");
                Assert.True(response.IsSuccessStatusCode);
            }
        });
        var pings = 0;
        var pinging = Task.Run(async () =>
        {
            while (!publishing.IsCompleted)
            {
                await stream.WriteAsync(ClientFrame(0x9, BitConverter.GetBytes(++pings)), timeout.Token);
                await Task.Delay(2, timeout.Token);
            }
        });

        long offset = 0;
        var pongs = new List<int>();
        while (offset < Publications || !pinging.IsCompleted || pongs.Count < pings)
        {
            var frame = await reader.ReadAsync(timeout.Token);
            if (frame.Opcode == 0xA)
            {
                pongs.Add(BitConverter.ToInt32(frame.Payload));
                continue;
            }

            Assert.Equal(0x1, frame.Opcode);
            foreach (var line in Encoding.UTF8.GetString(frame.Payload).Split('\n'))
            {
                var message = JsonDocument.Parse(line).RootElement;
                if (message.GetProperty("type").GetString() != "publication")
                    continue;
                Assert.Equal(++offset, message.GetProperty("offset").GetInt64());
                Assert.Equal(offset, message.GetProperty("data").GetProperty("n").GetInt64());
            }
        }

        await publishing.WaitAsync(timeout.Token);
        Assert.True(pings > 0);
        Assert.Equal(Enumerable.Range(1, pings), pongs);
    }

    private static async Task HandshakeAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            Assert.Equal(1, await stream.ReadAsync(one, cancellationToken));
            head.Add(one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(head.ToArray()), StringComparison.Ordinal);
    }

    /// <summary>A masked client frame (RFC 6455 §5.3), FIN set; payloads here are under 126 bytes.</summary>
    private static byte[] ClientFrame(byte opcode, byte[] payload)
    {
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        return frame;
    }

    private sealed record Frame(int Opcode, byte[] Payload);

    /// <summary>Reads server frames: FIN set, never masked, lengths as §5.2.</summary>
    private sealed class FrameReader(NetworkStream stream)
    {
        public async Task<Frame> ReadAsync(CancellationToken cancellationToken)
        {
            var head = await ReadExactlyAsync(2, cancellationToken);
            Assert.Equal(0x80, head[0] & 0xF0);
            Assert.Equal(0, head[1] & 0x80);
            long length = head[1] & 0x7F;
            if (length == 126)
                length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, cancellationToken));
            else if (length == 127)
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, cancellationToken));
            return new Frame(head[0] & 0x0F, await ReadExactlyAsync((int)length, cancellationToken));
        }

        private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            var bytes = new byte[count];
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            return bytes;
        }
    }
}
