using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>
/// A <see cref="ClientWebSocket"/> speaking Herald's JSON protocol: splits every received frame on
/// '\n' into messages (remembering how many each frame held) and serialises sends.
/// </summary>
internal sealed class WsClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket socket;
    private readonly Queue<JsonElement> pending = new();
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private byte[] buffer = new byte[64 * 1024];

    private WsClient(ClientWebSocket socket) => this.socket = socket;

    /// <summary>How many messages each received frame carried, in order.</summary>
    public List<int> FrameSizes { get; } = [];

    public WebSocketState State => socket.State;

    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public string? CloseStatusDescription => socket.CloseStatusDescription;

    public static Task<WsClient> ConnectAsync(TestServer server, string query = "", string? origin = null, string? bearer = null) =>
        ConnectAsync(WsUri(server, query), origin, bearer);

    /// <summary>To any node: <paramref name="baseAddress"/> is its HTTP base address.</summary>
    public static Task<WsClient> ConnectAsync(Uri baseAddress, string? bearer) =>
        ConnectAsync(new Uri(baseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal).TrimEnd('/') + "/v1/ws"), origin: null, bearer);

    private static async Task<WsClient> ConnectAsync(Uri uri, string? origin, string? bearer)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        if (bearer is not null)
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(uri, timeout.Token);
        return new WsClient(socket);
    }

    public static Uri WsUri(TestServer server, string query = "") =>
        new(server.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws" + query);

    /// <summary>The HTTP status of a refused upgrade.</summary>
    public static async Task<int> RefusedStatusAsync(TestServer server, string query = "", string? origin = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        using var timeout = new CancellationTokenSource(Timeout);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WsUri(server, query), timeout.Token));
        return (int)socket.HttpStatusCode;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type)
    {
        await sendLock.WaitAsync().WaitAsync(Timeout);
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>The next message, server pings included.</summary>
    public async Task<JsonElement> ReceiveAnyAsync()
    {
        while (pending.Count == 0)
        {
            var frame = await ReceiveFrameAsync() ?? throw new InvalidOperationException(
                $"The server closed the connection: {socket.CloseStatus} {socket.CloseStatusDescription}");
            var count = 0;
            foreach (var line in frame.Split('\n'))
            {
                pending.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
                count++;
            }

            FrameSizes.Add(count);
        }

        return pending.Dequeue();
    }

    /// <summary>The next message that is not a server ping.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        while (true)
        {
            var message = await ReceiveAnyAsync();
            if (message.GetProperty("type").GetString() != "ping")
                return message;
        }
    }

    /// <summary>Sends a request and returns the next message (which must be its reply when nothing else is in flight).</summary>
    public async Task<JsonElement> RequestAsync(string json)
    {
        await SendAsync(json);
        return await ReceiveAsync();
    }

    /// <summary>Reads (and drops) messages until the server's close frame; returns its status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync()
    {
        pending.Clear();
        while (await ReceiveFrameAsync() is not null)
        {
        }

        return socket.CloseStatus;
    }

    public void Abort() => socket.Abort();

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }

        socket.Dispose();
        sendLock.Dispose();
    }

    /// <summary>One whole text frame, or null once the server's close frame arrived.</summary>
    private async Task<string?> ReceiveFrameAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            length += result.Count;
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(buffer, 0, length);
        }
    }
}
