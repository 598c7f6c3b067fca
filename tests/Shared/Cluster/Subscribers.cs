using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.Testing.Cluster;

/// <summary>
/// A client that follows channels on one transport through the proxy (so each reconnect lands on
/// another node), resumes from its position after every disconnect, and records what it receives
/// and every reset it is told of.
/// </summary>
public abstract class ChaosSubscriber(string name, Uri proxy, IReadOnlyList<string> channels)
{
    private long _reconnects;

    public string Name { get; } = name;

    public IReadOnlyList<string> Channels { get; } = channels;

    public Dictionary<string, ChannelRecord> Records { get; } = channels.ToDictionary(c => c, _ => new ChannelRecord(), StringComparer.Ordinal);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Why the last connection (or poll) ended, for a subscriber left behind.</summary>
    public string? LastError { get; private set; }

    /// <summary>What the last answer held (long polling), for a subscriber left behind.</summary>
    public string? LastAnswer { get; protected set; }

    protected Uri Proxy { get; } = proxy;

    /// <summary>Per channel the last position received (or told by a subscribe reply).</summary>
    protected Dictionary<string, (string Epoch, long Offset)> Positions { get; } = channels.ToDictionary(c => c, _ => (string.Empty, 0L), StringComparer.Ordinal);

    /// <summary>Set once the first connection is subscribed to every channel.</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ConnectAndReadAsync(stopping);
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException or JsonException or InvalidOperationException or TaskCanceledException or OperationCanceledException)
            {
                LastError = $"{DateTime.UtcNow:HH:mm:ss.fff} {e.GetType().Name}: {e.Message}";
            }

            if (stopping.IsCancellationRequested)
                return;
            Interlocked.Increment(ref _reconnects);
            await Task.Delay(Random.Shared.Next(100, 400), CancellationToken.None);
        }
    }

    protected abstract Task ConnectAndReadAsync(CancellationToken stopping);

    protected void OnPublication(JsonElement publication)
    {
        var channel = publication.GetProperty("channel").GetString()!;
        var epoch = publication.GetProperty("epoch").GetString()!;
        var offset = publication.GetProperty("offset").GetInt64();
        var key = publication.GetProperty("data").GetProperty("k").GetString()!;
        lock (Positions)
            Positions[channel] = (epoch, offset);
        Records[channel].Received(new Seen(epoch, offset, key));
    }

    /// <summary>A subscribe answer for a channel: on <c>recovered:false</c> a reset to where delivery continues.</summary>
    protected void OnSubscribed(string channel, bool recovered, string epoch, long offset, string reason)
    {
        lock (Positions)
        {
            var (fromEpoch, fromOffset) = Positions[channel];
            // Recovered: the missed publications follow and move the position themselves.
            if (!recovered)
            {
                Records[channel].WasReset(new Reset(fromEpoch, fromOffset, epoch, offset, reason));
                Positions[channel] = (epoch, offset);
            }
        }
    }

    /// <summary>Where this subscriber stands on <paramref name="channel"/>.</summary>
    public (string Epoch, long Offset) PositionOf(string channel)
    {
        lock (Positions)
            return Positions[channel];
    }

    protected string Cursor()
    {
        lock (Positions)
            return CursorCodec.Encode(Positions);
    }
}

/// <summary>WebSocket: <c>subscribe</c> with <c>since</c> per channel, answers pings.</summary>
public sealed class WebSocketSubscriber(string name, Uri proxy, IReadOnlyList<string> channels) : ChaosSubscriber(name, proxy, channels)
{
    protected override async Task ConnectAndReadAsync(CancellationToken stopping)
    {
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        connect.CancelAfter(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(new Uri(Proxy.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws"), connect.Token);
        var id = 0;
        foreach (var channel in Channels)
        {
            (string Epoch, long Offset) since;
            lock (Positions)
                since = Positions[channel];
            var request = $$$"""{"id":{{{++id}}},"op":"subscribe","channel":"{{{channel}}}","since":{"epoch":"{{{since.Epoch}}}","offset":{{{since.Offset}}}}}""";
            await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, stopping);
        }

        var subscribed = 0;
        var buffer = new byte[256 * 1024];
        while (!stopping.IsCancellationRequested)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), stopping);
                if (result.MessageType == WebSocketMessageType.Close)
                    return;
                length += result.Count;
            }
            while (!result.EndOfMessage);

            foreach (var line in Encoding.UTF8.GetString(buffer, 0, length).Split('\n'))
            {
                using var document = JsonDocument.Parse(line);
                var message = document.RootElement;
                switch (message.GetProperty("type").GetString())
                {
                    case "publication":
                        OnPublication(message);
                        break;
                    case "subscribed":
                        OnSubscribed(message.GetProperty("channel").GetString()!, message.GetProperty("recovered").GetBoolean(),
                            message.GetProperty("epoch").GetString()!, message.GetProperty("offset").GetInt64(), "ws subscribed recovered:false");
                        if (++subscribed == Channels.Count)
                            Ready.TrySetResult();
                        break;
                    case "ping":
                        await socket.SendAsync("""{"op":"pong"}"""u8.ToArray(), WebSocketMessageType.Text, true, stopping);
                        break;
                    case "error":
                        throw new InvalidOperationException("ws error: " + line);
                }
            }
        }
    }
}

/// <summary>SSE or NDJSON streaming: the cursor resumes; <c>subscribed</c> per channel says whether it did.</summary>
public sealed class StreamSubscriber(string name, Uri proxy, IReadOnlyList<string> channels, bool sse) : ChaosSubscriber(name, proxy, channels)
{
    protected override async Task ConnectAndReadAsync(CancellationToken stopping)
    {
        using var http = new HttpClient { BaseAddress = Proxy, Timeout = Timeout.InfiniteTimeSpan };
        var query = string.Join('&', Channels.Select(c => "channel=" + c)) + "&cursor=" + Cursor();
        using var response = await http.GetAsync((sse ? "v1/sse?" : "v1/stream?") + query, HttpCompletionOption.ResponseHeadersRead, stopping);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stopping));
        var subscribed = 0;
        string? eventName = null;
        while (!stopping.IsCancellationRequested)
        {
            using var silence = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            silence.CancelAfter(TimeSpan.FromSeconds(45));
            var line = await reader.ReadLineAsync(silence.Token);
            if (line is null)
                return;

            string? json = null;
            if (sse)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                    eventName = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    json = line[6..];
                if (json is null)
                    continue;
            }
            else if (line.Length > 0)
            {
                json = line;
            }
            else
            {
                continue;
            }

            using var document = JsonDocument.Parse(json);
            var message = document.RootElement;
            var type = sse ? eventName : message.GetProperty("type").GetString();
            switch (type)
            {
                case "publication":
                    OnPublication(message);
                    break;
                case "subscribed":
                    foreach (var channel in message.GetProperty("channels").EnumerateObject())
                    {
                        OnSubscribed(channel.Name, channel.Value.GetProperty("recovered").GetBoolean(), channel.Value.GetProperty("epoch").GetString()!,
                            channel.Value.GetProperty("offset").GetInt64(), (sse ? "sse" : "stream") + " subscribed recovered:false");
                        subscribed++;
                    }

                    if (subscribed >= Channels.Count)
                        Ready.TrySetResult();
                    break;
                case "disconnect":
                    return;
            }
        }
    }
}

/// <summary>Long polling: stateless, the cursor is the whole session; a channel answered <c>recovered:false</c> is a reset.</summary>
public sealed class LongPollSubscriber(string name, Uri proxy, IReadOnlyList<string> channels) : ChaosSubscriber(name, proxy, channels)
{
    protected override async Task ConnectAndReadAsync(CancellationToken stopping)
    {
        // A fresh connection per poll: every poll may land on another node.
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
        using var http = new HttpClient(handler) { BaseAddress = Proxy, Timeout = TimeSpan.FromSeconds(40) };
        var channelQuery = string.Join('&', Channels.Select(c => "channel=" + c));
        while (!stopping.IsCancellationRequested)
        {
            using var response = await http.GetAsync($"v1/poll?{channelQuery}&cursor={Cursor()}&wait=10", stopping);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"poll answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(stopping)}");
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(stopping));
            var answer = document.RootElement;
            foreach (var channel in answer.GetProperty("channels").EnumerateObject())
            {
                OnSubscribed(channel.Name, channel.Value.GetProperty("recovered").GetBoolean(), channel.Value.GetProperty("epoch").GetString()!,
                    channel.Value.GetProperty("offset").GetInt64(), "poll recovered:false");
            }

            var publications = answer.GetProperty("publications");
            foreach (var publication in publications.EnumerateArray())
                OnPublication(publication);
            LastAnswer = $"{DateTime.UtcNow:HH:mm:ss.fff} {publications.GetArrayLength()} publications, more {answer.GetProperty("more")}, channels {answer.GetProperty("channels")}";
            Ready.TrySetResult();
        }
    }
}
