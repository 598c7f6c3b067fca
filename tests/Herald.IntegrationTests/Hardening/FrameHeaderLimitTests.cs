namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// A frame header announcing more than Herald:Transports:MaxWebSocketMessageBytes is refused with
/// 1009 on the header: the server does not wait for (or buffer) 64 KiB of a payload announced as
/// 2^40 bytes. On both paths: the fast path below HTTP, and the HTTP pipeline's endpoint (reached
/// with an upgrade the fast path leaves to it: a repeated header).
/// </summary>
public sealed class FrameHeaderLimitTests : IAsyncLifetime
{
    private const int Max = 1024;
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Transports:MaxWebSocketMessageBytes"] = Max.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    public static TheoryData<string, long, bool> Cases => new()
    {
        { "fast", 1L << 40, true },
        { "http", 1L << 40, true },
        { "fast", Max + 1, true },
        { "http", Max + 1, true },
        { "fast", 70_000, true },   // 16-bit length form
        { "http", 70_000, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_frame_announcing_more_than_the_limit_is_closed_1009_before_its_payload(string path, long announced, bool _)
    {
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await ConnectAsync(path, timeout.Token);

        // Only the header is sent, never the payload: the answer must not wait for it.
        await socket.SendAsync(RawHttp.FrameHeader(0x1, announced), timeout.Token);
        Assert.Equal(1009, await RawHttp.ReadCloseCodeAsync(socket, timeout.Token));
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("http")]
    public async Task Fragments_adding_up_past_the_limit_are_closed_1009_on_the_header_that_passes_it(string path)
    {
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await ConnectAsync(path, timeout.Token);
        await socket.SendAsync(RawHttp.Frame(0x1, new byte[Max / 2], fin: false), timeout.Token);
        await socket.SendAsync(RawHttp.FrameHeader(0x0, Max / 2 + 1), timeout.Token);
        Assert.Equal(1009, await RawHttp.ReadCloseCodeAsync(socket, timeout.Token));
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("http")]
    public async Task A_message_of_exactly_the_limit_is_read_and_answered(string path)
    {
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await ConnectAsync(path, timeout.Token);
        var ping = """{"id":7,"op":"ping"}""";
        var message = System.Text.Encoding.ASCII.GetBytes(ping + new string(' ', Max - ping.Length));
        await socket.SendAsync(RawHttp.Frame(0x1, message), timeout.Token);
        var reply = new byte[64];
        var read = await socket.ReceiveAsync(reply, timeout.Token);
        Assert.Contains("\"pong\"", System.Text.Encoding.ASCII.GetString(reply, 0, read), StringComparison.Ordinal);
    }

    private async Task<System.Net.Sockets.Socket> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: cancellationToken);
        var head = RawHttp.UpgradeHead();
        if (path == "http")
            head = head.Replace("Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nX-Repeated: 1\r\nX-Repeated: 2\r\n", StringComparison.Ordinal);
        await RawHttp.SendAsync(socket, head, cancellationToken);
        var answer = new List<byte>();
        var one = new byte[1];
        while (answer.Count < 4 || !answer.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one, cancellationToken));
            answer.Add(one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", System.Text.Encoding.ASCII.GetString(answer.ToArray()), StringComparison.Ordinal);
        return socket;
    }
}
