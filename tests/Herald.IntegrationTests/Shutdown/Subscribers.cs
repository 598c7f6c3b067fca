using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Shutdown;

/// <summary>
/// A client that follows <see cref="RollingRestartTests.Channel"/> on one transport the way a real
/// client does: it keeps its position, and after any disconnect reconnects to the current node and
/// resumes from it. It records every offset it received, in order, and every goodbye the server sent.
/// </summary>
internal abstract class Subscriber(CurrentNode node, string name)
{
    private readonly List<long> offsets = [];
    private readonly List<string> goodbyes = [];
    private long last;
    private int resets;
    private int connections;

    public string Name => name;

    protected CurrentNode Node => node;

    /// <summary>Completes once the first subscription is live: publications from then on must all arrive.</summary>
    public TaskCompletionSource Subscribed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count
    {
        get
        {
            lock (offsets)
                return offsets.Count;
        }
    }

    public long Last => Interlocked.Read(ref last);

    /// <summary>Subscriptions answered <c>recovered: false</c>.</summary>
    public int Resets => Volatile.Read(ref resets);

    public int Connections => Volatile.Read(ref connections);

    /// <summary>Close codes and <c>disconnect</c> messages, as <c>"3001 shutdown"</c>.</summary>
    public IReadOnlyList<string> Goodbyes
    {
        get
        {
            lock (goodbyes)
                return [.. goodbyes];
        }
    }

    public IReadOnlyList<long> Offsets()
    {
        lock (offsets)
            return [.. offsets];
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                Interlocked.Increment(ref connections);
                await ConnectOnceAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or WebSocketException or IOException or OperationCanceledException)
            {
                // The node went away (or is not up yet): reconnect and resume.
            }

            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One connection, from connect to its end; the position survives it.</summary>
    protected abstract Task ConnectOnceAsync(CancellationToken stop);

    protected void OnSubscribed(bool recovered)
    {
        if (!recovered)
            Interlocked.Increment(ref resets);
        Subscribed.TrySetResult();
    }

    protected void OnPublication(long offset)
    {
        lock (offsets)
            offsets.Add(offset);
        Interlocked.Exchange(ref last, Math.Max(offset, Last));
    }

    protected void OnGoodbye(int code, string? reason)
    {
        lock (goodbyes)
            goodbyes.Add($"{code} {reason}");
    }

    protected static CancellationTokenSource Timeout(CancellationToken stop)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return timeout;
    }
}

/// <summary><c>/v1/ws</c>: subscribes with <c>since</c> = the last publication's <c>{epoch, offset}</c>.</summary>
internal sealed class WsSubscriber(CurrentNode node) : Subscriber(node, "ws")
{
    private string epoch = string.Empty;
    private long offset;

    protected override async Task ConnectOnceAsync(CancellationToken stop)
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new Uri(Node.Address.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws");
        using (var connect = Timeout(stop))
            await socket.ConnectAsync(uri, connect.Token);

        var subscribe = $$$"""{"id":1,"op":"subscribe","channel":"{{{RollingRestartTests.Channel}}}","since":{"epoch":"{{{epoch}}}","offset":{{{offset}}}}}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(subscribe), WebSocketMessageType.Text, endOfMessage: true, stop);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                // The server pings every 15 s, so a minute of silence is a dead connection.
                using var read = Timeout(stop);
                result = await socket.ReceiveAsync(buffer.AsMemory(length), read.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    OnGoodbye((int)(socket.CloseStatus ?? 0), socket.CloseStatusDescription);
                    using var close = Timeout(stop);
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, close.Token);
                    return;
                }

                length += result.Count;
            }
            while (!result.EndOfMessage);

            foreach (var line in Encoding.UTF8.GetString(buffer, 0, length).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var message = JsonDocument.Parse(line).RootElement;
                switch (message.GetProperty("type").GetString())
                {
                    case "subscribed":
                        OnSubscribed(message.GetProperty("recovered").GetBoolean());
                        break;
                    case "publication":
                        epoch = message.GetProperty("epoch").GetString()!;
                        offset = message.GetProperty("offset").GetInt64();
                        OnPublication(offset);
                        break;
                    case "ping":
                        await socket.SendAsync("""{"op":"pong"}"""u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, stop);
                        break;
                    case "error":
                        throw new InvalidOperationException("ws error reply: " + line);
                }
            }
        }
    }
}

/// <summary><c>/v1/sse</c> (resumes with <c>Last-Event-ID</c>) or <c>/v1/stream</c> (resumes with <c>?cursor=</c>).</summary>
internal sealed class PushSubscriber(CurrentNode node, string name) : Subscriber(node, name)
{
    private readonly string transport = name;

    private string? cursor;

    protected override async Task ConnectOnceAsync(CancellationToken stop)
    {
        using var client = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        var path = $"v1/{transport}?channel={RollingRestartTests.Channel}";
        if (cursor is not null && transport == "stream")
            path += "&cursor=" + cursor;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Node.Address, path));
        if (cursor is not null && transport == "sse")
            request.Headers.Add("Last-Event-ID", cursor);
        using HttpResponseMessage response = await SendAsync(client, request, stop);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop), Encoding.UTF8);
        string? eventName = null, id = null, data = null;
        while (true)
        {
            string? line;
            using (var read = Timeout(stop))
                line = await reader.ReadLineAsync(read.Token);
            if (line is null)
                return;

            if (transport == "stream")
            {
                var message = JsonDocument.Parse(line).RootElement;
                Handle(message.GetProperty("type").GetString()!, message, message.TryGetProperty("cursor", out var c) ? c.GetString() : null);
            }
            else if (line.Length == 0)
            {
                if (eventName is not null && data is not null)
                    Handle(eventName, JsonDocument.Parse(data).RootElement, id);
                eventName = id = data = null;
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line["id: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken stop)
    {
        using var timeout = Timeout(stop);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    private void Handle(string type, JsonElement message, string? messageCursor)
    {
        switch (type)
        {
            case "subscribed":
                cursor = message.GetProperty("cursor").GetString();
                OnSubscribed(message.GetProperty("channels").GetProperty(RollingRestartTests.Channel).GetProperty("recovered").GetBoolean());
                break;
            case "publication":
                cursor = messageCursor ?? throw new InvalidOperationException("a publication without a cursor");
                OnPublication(message.GetProperty("offset").GetInt64());
                break;
            case "disconnect":
                OnGoodbye(message.GetProperty("code").GetInt32(), message.GetProperty("reason").GetString());
                break;
        }
    }
}

/// <summary><c>/v1/poll</c>: long polls with the cursor of the previous answer, on whichever node is up.</summary>
internal sealed class PollSubscriber(CurrentNode node) : Subscriber(node, "longpoll")
{
    private string? cursor;

    protected override async Task ConnectOnceAsync(CancellationToken stop)
    {
        using var client = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        while (true)
        {
            // The first poll (wait=0) only learns the cursor: from then on nothing published is missed.
            var wait = cursor is null ? 0 : 5;
            var path = $"v1/poll?channel={RollingRestartTests.Channel}&wait={wait}" + (cursor is null ? string.Empty : "&cursor=" + cursor);
            using var timeout = Timeout(stop);
            using var response = await client.GetAsync(new Uri(Node.Address, path), timeout.Token);
            response.EnsureSuccessStatusCode();
            var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token)).RootElement;
            foreach (var publication in answer.GetProperty("publications").EnumerateArray())
                OnPublication(publication.GetProperty("offset").GetInt64());
            cursor = answer.GetProperty("cursor").GetString();
            OnSubscribed(answer.GetProperty("channels").GetProperty(RollingRestartTests.Channel).GetProperty("recovered").GetBoolean());
        }
    }
}
