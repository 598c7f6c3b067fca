using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.LoadGen;

internal enum TransportKind
{
    Ws,
    Sse,
    Stream,
    LongPoll,
    SignalR,
    SocketIo,
}

/// <summary>The receive loops of the four transports, written against the wire formats of docs/protocol-*.md.</summary>
internal static class Transports
{
    private static readonly byte[] s_pong = "{\"op\":\"pong\"}"u8.ToArray();

    public static TransportKind Parse(string name) => name switch
    {
        "ws" => TransportKind.Ws,
        "sse" => TransportKind.Sse,
        "stream" => TransportKind.Stream,
        "longpoll" or "poll" => TransportKind.LongPoll,
        "signalr" => TransportKind.SignalR,
        "socketio" => TransportKind.SocketIo,
        _ => throw new ArgumentException($"--transport is ws, sse, stream or longpoll, not '{name}'."),
    };

    public static Task RunAsync(TransportKind kind, Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken) => kind switch
    {
        TransportKind.Ws => WebSocketAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        TransportKind.Sse => PushAsync(subscriber, endpoint, "/v1/sse", "\n\n"u8.ToArray(), bufferBytes, cancellationToken),
        TransportKind.Stream => PushAsync(subscriber, endpoint, "/v1/stream", "\n"u8.ToArray(), bufferBytes, cancellationToken),
        TransportKind.SignalR => SignalRClient.RunAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        TransportKind.SocketIo => SocketIoClient.RunAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        _ => LongPollAsync(subscriber, endpoint, cancellationToken),
    };

    private static async Task WebSocketAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        // Herald sends its own {"type":"ping"}; protocol-level pings would only add traffic.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(endpoint.WebSocketUri, endpoint.Invoker, cancellationToken);
        if (endpoint.NoSubscribe)
            subscriber.Acked.TrySetResult(true);
        else
            await SubscribeAsync(socket, subscriber, cancellationToken);
        await ReceiveFramesAsync(socket, subscriber, bufferBytes, cancellationToken);
    }

    private static async Task SubscribeAsync(ClientWebSocket socket, Subscriber subscriber, CancellationToken cancellationToken)
    {
        var subscribe = Encoding.UTF8.GetBytes($"{{\"id\":1,\"op\":\"subscribe\",\"channel\":\"{subscriber.Channel}\"}}");
        await socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    private static async Task ReceiveFramesAsync(ClientWebSocket socket, Subscriber subscriber, int bufferBytes, CancellationToken cancellationToken)
    {
        var reader = new MessageReader(socket, bufferBytes);
        while (await reader.ReceiveAsync(subscriber, 0, cancellationToken) is { } message)
        {
            var now = Stopwatch.GetTimestamp();
            var frame = message.Span;
            long publications = 0;
            while (!frame.IsEmpty)
            {
                var end = frame.IndexOf((byte)'\n');
                var line = end < 0 ? frame : frame[..end];
                frame = end < 0 ? default : frame[(end + 1)..];
                if (subscriber.OnMessage(line, now))
                    publications++;
            }

            if (publications > 0)
            {
                subscriber.Frames++;
                subscriber.FramePublications += publications;
            }

            if (subscriber.PingPending)
            {
                subscriber.PingPending = false;
                await socket.SendAsync(s_pong, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
    }

    /// <summary>SSE (events end with a blank line) and NDJSON (one object per line) over one long response.</summary>
    private static async Task PushAsync(Subscriber subscriber, Endpoint endpoint, string path, byte[] delimiter, int bufferBytes, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Uri($"{path}?channel={subscriber.Channel}"));
        using var response = await endpoint.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var sse = delimiter.Length == 2;

        var buffer = new byte[bufferBytes];
        int start = 0, end = 0;
        while (true)
        {
            if (end == buffer.Length)
            {
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
                else
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
            }

            var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
            if (read == 0)
            {
                subscriber.Error ??= "the server ended the response";
                return;
            }

            end += read;
            var now = Stopwatch.GetTimestamp();
            long publications = 0;
            while (true)
            {
                var pending = buffer.AsSpan(start, end - start);
                var at = pending.IndexOf(delimiter);
                if (at < 0)
                    break;
                var record = pending[..at];
                start += at + delimiter.Length;
                if (sse ? OnEvent(subscriber, record, now) : subscriber.OnMessage(record, now))
                    publications++;
            }

            if (start == end)
                start = end = 0;
            if (publications > 0)
            {
                subscriber.Frames++;
                subscriber.FramePublications += publications;
            }
        }
    }

    /// <summary>One SSE event (without its blank line): <c>id:</c>, <c>event:</c> and <c>data:</c> lines, or a <c>:</c> comment.</summary>
    private static bool OnEvent(Subscriber subscriber, ReadOnlySpan<byte> record, long now)
    {
        ReadOnlySpan<byte> name = default, data = default;
        while (!record.IsEmpty)
        {
            var end = record.IndexOf((byte)'\n');
            var line = end < 0 ? record : record[..end];
            record = end < 0 ? default : record[(end + 1)..];
            if (line.StartsWith("event: "u8))
                name = line[7..];
            else if (line.StartsWith("data: "u8))
                data = line[6..];
        }

        if (name.SequenceEqual("publication"u8))
        {
            subscriber.OnPublication(data, now);
            return true;
        }

        if (name.SequenceEqual("subscribed"u8))
            subscriber.OnSubscribed(data);
        else if (!name.IsEmpty)
            subscriber.Error ??= Encoding.UTF8.GetString(name) + ": " + Encoding.UTF8.GetString(data);
        return false;
    }

    /// <summary>Keeps one poll outstanding: re-issued with the answer's cursor as soon as it is answered.</summary>
    private static async Task LongPollAsync(Subscriber subscriber, Endpoint endpoint, CancellationToken cancellationToken)
    {
        string? cursor = null;
        while (true)
        {
            var query = $"/v1/poll?channel={subscriber.Channel}&wait={endpoint.PollWaitSeconds}"
                + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            // The server holds the poll from here on; the response tells nothing until it ends.
            var answer = endpoint.Client.GetAsync(endpoint.Uri(query), cancellationToken);
            subscriber.Acked.TrySetResult(true);
            using var response = await answer;
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if ((int)response.StatusCode == 429)
            {
                subscriber.Error ??= "429 " + Encoding.UTF8.GetString(body);
                await Task.Delay(1000, cancellationToken);
                continue;
            }

            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"/v1/poll answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");

            var now = Stopwatch.GetTimestamp();
            using var document = JsonDocument.Parse(body);
            cursor = document.RootElement.GetProperty("cursor").GetString();
            long publications = 0;
            if (document.RootElement.TryGetProperty("publications", out var list))
            {
                foreach (var publication in list.EnumerateArray())
                {
                    subscriber.OnPublication(Encoding.UTF8.GetBytes(publication.GetRawText()), now);
                    publications++;
                }
            }

            if (publications > 0)
            {
                subscriber.Frames++;
                subscriber.FramePublications += publications;
            }
        }
    }
}

/// <summary>Where the server is and the clients that reach it.</summary>
internal sealed class Endpoint : IDisposable
{
    public Endpoint(string url, Connector connector, int pollWaitSeconds)
    {
        Base = new Uri(url.TrimEnd('/') + "/");
        WebSocketUri = new UriBuilder(Base) { Scheme = Base.Scheme == "https" ? "wss" : "ws", Path = "/v1/ws" }.Uri;
        Invoker = new HttpMessageInvoker(connector.CreateHandler());
        Client = new HttpClient(connector.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        PollWaitSeconds = pollWaitSeconds;
    }

    public Uri Base { get; }

    public Uri WebSocketUri { get; }

    public HttpMessageInvoker Invoker { get; }

    public HttpClient Client { get; }

    public int PollWaitSeconds { get; }

    /// <summary>WebSocket only: connect and send nothing, to tell the connection's cost from the session's.</summary>
    public bool NoSubscribe { get; init; }

    public Uri Uri(string pathAndQuery) => new(Base, pathAndQuery.TrimStart('/'));

    public void Dispose()
    {
        Invoker.Dispose();
        Client.Dispose();
    }
}
