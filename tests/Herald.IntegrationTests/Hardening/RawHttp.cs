using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Hardening;

/// <summary>Bare TCP clients for what no HTTP or WebSocket library sends: half heads, idle sockets, forged frames, chosen source addresses.</summary>
internal static class RawHttp
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>A connected socket, bound first to <paramref name="source"/> (another 127.x.y.z is another client) when given.</summary>
    public static async Task<Socket> ConnectAsync(Uri server, IPAddress? source = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (source is not null)
                socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(server.Host), server.Port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HttpClient whose connections leave from <paramref name="source"/>.</summary>
    public static SocketsHttpHandler HandlerFrom(IPAddress source) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var endpoint = (DnsEndPoint)context.DnsEndPoint;
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(IPAddress.Parse(endpoint.Host), endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    };

    public static Task SendAsync(Socket socket, string text, CancellationToken cancellationToken = default) =>
        socket.SendAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

    /// <summary>Everything the server sends until it closes the connection (a reset counts as a close); null when it is still open at <paramref name="within"/>.</summary>
    public static async Task<byte[]?> ReadUntilClosedAsync(Socket socket, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var received = new List<byte>();
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, timeout.Token);
                if (read == 0)
                    return [.. received];
                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (SocketException)
        {
            return [.. received];
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>An HTTP response read whole from bytes the server sent: status, headers (lower-case names) and body.</summary>
    public static (int Status, Dictionary<string, string> Headers, string Body) Parse(byte[] response)
    {
        var text = Encoding.UTF8.GetString(response);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, $"not an HTTP response: '{text}'");
        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var body = text[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out var coding) && coding == "chunked")
        {
            var whole = new StringBuilder();
            while (true)
            {
                var size = Convert.ToInt32(body[..body.IndexOf("\r\n", StringComparison.Ordinal)], 16);
                body = body[(body.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];
                if (size == 0)
                    break;
                whole.Append(body[..size]);
                body = body[(size + 2)..];
            }

            body = whole.ToString();
        }

        return (status, headers, body);
    }

    /// <summary>Asserts a problem document of <paramref name="status"/> and <paramref name="code"/>.</summary>
    public static void AssertProblem(byte[]? response, int status, string code)
    {
        Assert.NotNull(response);
        var (actual, headers, body) = Parse(response);
        Assert.True(status == actual, $"expected {status}, got {actual}: {body}");
        Assert.Equal("application/problem+json", headers["content-type"]);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    public static string UpgradeHead(string target = "/v1/ws") =>
        $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))}\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// <summary>Sends an upgrade and reads the server's answer head; the status code.</summary>
    public static async Task<int> HandshakeAsync(Socket socket, CancellationToken cancellationToken, string target = "/v1/ws")
    {
        await SendAsync(socket, UpgradeHead(target), cancellationToken);
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one, cancellationToken));
            head.Add(one[0]);
        }

        return int.Parse(Encoding.ASCII.GetString(head.ToArray()).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A masked client frame header (RFC 6455 §5.2) announcing <paramref name="length"/> payload bytes.</summary>
    public static byte[] FrameHeader(byte opcode, long length, bool fin = true)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        if (length < 126)
        {
            header.Add((byte)(0x80 | length));
        }
        else if (length <= ushort.MaxValue)
        {
            header.Add(0x80 | 126);
            var ext = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(ext, (ushort)length);
            header.AddRange(ext);
        }
        else
        {
            header.Add(0x80 | 127);
            var ext = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(ext, (ulong)length);
            header.AddRange(ext);
        }

        header.AddRange(new byte[4]); // mask key 0: the payload goes as is
        return [.. header];
    }

    /// <summary>A whole masked client frame (mask key 0).</summary>
    public static byte[] Frame(byte opcode, byte[] payload, bool fin = true) => [.. FrameHeader(opcode, payload.Length, fin), .. payload];

    /// <summary>Reads server frames until a close frame; its code, or null when the connection ended without one.</summary>
    public static async Task<int?> ReadCloseCodeAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            while (true)
            {
                var head = new byte[2];
                await stream.ReadExactlyAsync(head, cancellationToken);
                long length = head[1] & 0x7F;
                if (length == 126)
                {
                    var ext = new byte[2];
                    await stream.ReadExactlyAsync(ext, cancellationToken);
                    length = BinaryPrimitives.ReadUInt16BigEndian(ext);
                }
                else if (length == 127)
                {
                    var ext = new byte[8];
                    await stream.ReadExactlyAsync(ext, cancellationToken);
                    length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
                }

                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, cancellationToken);
                if ((head[0] & 0x0F) == 0x8)
                    return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
            }
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or SocketException)
        {
            return null;
        }
    }
}
