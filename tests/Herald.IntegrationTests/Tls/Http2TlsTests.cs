using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;

namespace Herald.IntegrationTests.Tls;

/// <summary>
/// <c>herald serve</c> with a certificate: HTTP/2 and HTTP/1.1 on one TLS port by ALPN, every push
/// transport multiplexed over one HTTP/2 connection, WebSocket by extended CONNECT (RFC 8441).
/// </summary>
public sealed class Http2TlsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TlsFiles tls = TlsFiles.Create();
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: tls.Settings);

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        tls.Dispose();
    }

    [Fact]
    public void The_server_listens_on_https()
        => Assert.Equal("https", server.BaseAddress.Scheme);

    [Fact]
    public async Task Twenty_sse_and_twenty_ndjson_streams_and_the_publish_share_one_http2_connection()
    {
        var connections = new StrongBox<int>();
        using var client = TlsFiles.Client(tls.Handler(connections), server, HttpVersion.Version20);
        var streams = new List<PushClient>();
        try
        {
            foreach (var transport in Enumerable.Repeat("sse", 20).Concat(Enumerable.Repeat("stream", 20)))
            {
                var stream = await PushClient.ConnectAsync(client, transport, ["h2:many"]);
                streams.Add(stream);
                Assert.Equal(HttpVersion.Version20, stream.Response.Version);
                await stream.ExpectAsync("subscribed");
            }

            using var published = await PublishAsync(client, "h2:many", """{"data":{"text":"to all forty"}}""");
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
            Assert.Equal(HttpVersion.Version20, published.Version);

            var received = await Task.WhenAll(streams.Select(s => s.ExpectAsync("publication")));
            Assert.All(received, m => Assert.Equal("to all forty", m.Json.GetProperty("data").GetProperty("text").GetString()));
            Assert.Equal(1, connections.Value);
        }
        finally
        {
            foreach (var stream in streams)
                await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_WebSocket_over_http2_is_an_extended_CONNECT_stream_that_subscribes_and_receives()
    {
        using var handler = tls.Handler();
        using var invoker = new HttpMessageInvoker(handler);
        using var socket = await TlsFiles.ConnectWebSocketAsync(invoker, server, HttpVersion.Version20);
        // RFC 8441: the CONNECT stream is accepted with 200, where an HTTP/1.1 upgrade gets 101.
        Assert.Equal(HttpStatusCode.OK, socket.HttpStatusCode);

        await SendAsync(socket, """{"id":1,"op":"subscribe","channel":"h2:ws"}""");
        var subscribed = await ReceiveAsync(socket);
        Assert.Equal("subscribed", subscribed.GetProperty("type").GetString());

        // The publish travels on another stream of the same kind of connection.
        using var client = TlsFiles.Client(tls.Handler(), server, HttpVersion.Version20);
        using var published = await PublishAsync(client, "h2:ws", """{"data":"over h2"}""");
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);

        var publication = await ReceiveAsync(socket);
        Assert.Equal("publication", publication.GetProperty("type").GetString());
        Assert.Equal("over h2", publication.GetProperty("data").GetString());

        await SendAsync(socket, """{"id":2,"op":"publish","channel":"h2:ws","data":"from the socket"}""");
        // The socket carries the API key, so it may publish: its reply and the push both arrive, in either order.
        var replyAndPush = new List<JsonElement> { await ReceiveAsync(socket), await ReceiveAsync(socket) };
        Assert.Single(replyAndPush, m => m.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == 2 && m.GetProperty("type").GetString() != "error");
        Assert.Single(replyAndPush, m => m.GetProperty("type").GetString() == "publication" && m.GetProperty("data").GetString() == "from the socket");
        using var close = new CancellationTokenSource(Timeout);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", close.Token);
    }

    [Fact]
    public async Task Http11_still_works_on_the_same_tls_port_for_sse_publish_and_WebSocket()
    {
        using var client = TlsFiles.Client(tls.Handler(), server, HttpVersion.Version11);
        await using var sse = await PushClient.ConnectAsync(client, "sse", ["h1:tls"]);
        Assert.Equal(HttpVersion.Version11, sse.Response.Version);
        await sse.ExpectAsync("subscribed");

        using var handler = tls.Handler();
        using var invoker = new HttpMessageInvoker(handler);
        using var socket = await TlsFiles.ConnectWebSocketAsync(invoker, server, HttpVersion.Version11);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
        await SendAsync(socket, """{"id":1,"op":"subscribe","channel":"h1:tls"}""");
        Assert.Equal("subscribed", (await ReceiveAsync(socket)).GetProperty("type").GetString());

        using var published = await PublishAsync(client, "h1:tls", """{"data":"over h1"}""");
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        Assert.Equal(HttpVersion.Version11, published.Version);

        Assert.Equal("over h1", (await sse.ExpectAsync("publication")).Json.GetProperty("data").GetString());
        Assert.Equal("over h1", (await ReceiveAsync(socket)).GetProperty("data").GetString());
    }

    [Fact]
    public async Task Plain_http_to_the_tls_port_gets_no_answer()
    {
        using var client = new HttpClient { Timeout = Timeout };
        var plain = new UriBuilder(server.BaseAddress) { Scheme = "http" }.Uri;
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(new Uri(plain, "healthz")));
    }

    internal static async Task<HttpResponseMessage> PublishAsync(HttpClient client, string channel, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channel}/messages")
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        return await client.SendAsync(request).WaitAsync(Timeout);
    }

    private static async Task SendAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    private static Task<JsonElement> ReceiveAsync(ClientWebSocket socket) => WebSocketLines.Of(socket).ReceiveAsync();

    /// <summary>The messages of a socket one at a time (a frame may hold several lines), pings skipped.</summary>
    private sealed class WebSocketLines(ClientWebSocket socket)
    {
        private static readonly ConditionalWeakTable<ClientWebSocket, WebSocketLines> s_readers = [];
        private readonly Queue<string> pending = new();

        public static WebSocketLines Of(ClientWebSocket socket) => s_readers.GetValue(socket, s => new WebSocketLines(s));

        public async Task<JsonElement> ReceiveAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                while (pending.TryDequeue(out var line))
                {
                    var message = JsonSerializer.Deserialize<JsonElement>(line);
                    if (message.GetProperty("type").GetString() != "ping")
                        return message;
                }

                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                Assert.Equal(WebSocketMessageType.Text, result.MessageType);
                foreach (var line in Encoding.UTF8.GetString(buffer, 0, length).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    pending.Enqueue(line);
            }
        }
    }
}
