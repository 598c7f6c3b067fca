using System.Buffers.Text;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// The system under test and its transport — <c>--target herald|signalr|socketio|raw</c>,
/// <c>--transport ws|sse|stream|longpoll|polling</c> — and what differs between them: how a
/// subscriber connects and reads, where the publisher POSTs and with what body, and how to ask the
/// server for the channel's newest sequence number ("top"). Everything else is the same code.
/// </summary>
internal sealed record Target(string System, string Transport)
{
    public static Target Parse(Options options)
    {
        var target = new Target(options.Get("target", "herald"), options.Get("transport", "ws"));
        var valid = target.System switch
        {
            "herald" => target.Transport is "ws" or "sse" or "stream" or "longpoll",
            "signalr" or "raw" => target.Transport == "ws",
            "socketio" => target.Transport is "ws" or "polling",
            _ => false,
        };
        return valid ? target : throw new ArgumentException(
            $"--target {target.System} --transport {target.Transport}: herald speaks ws, sse, stream, longpoll; signalr and raw ws; socketio ws and polling.");
    }

    public bool IsHerald => System == "herald";

    /// <summary>Every message names its sender and the sender's sequence number, checked per sender (SignalR has no server-side numbering).</summary>
    public bool PublisherNumbers => System == "signalr";

    public string DefaultChannel => IsHerald ? "bench:fan" : "bench";

    /// <summary>Opens one subscriber's connection and reads it until <paramref name="cancellationToken"/> or the server ends it.</summary>
    public Task RunAsync(Subscriber subscriber, Endpoint endpoint, int bufferBytes, CancellationToken cancellationToken) => (System, Transport) switch
    {
        ("herald", "ws") => HeraldClient.WebSocketAsync(subscriber, endpoint, "/v1/ws", subscribe: !endpoint.NoSubscribe, bufferBytes, cancellationToken),
        ("herald", "sse") => HeraldClient.PushAsync(subscriber, endpoint, "/v1/sse", sse: true, bufferBytes, cancellationToken),
        ("herald", "stream") => HeraldClient.PushAsync(subscriber, endpoint, "/v1/stream", sse: false, bufferBytes, cancellationToken),
        ("herald", _) => HeraldClient.LongPollAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        ("raw", _) => HeraldClient.WebSocketAsync(subscriber, endpoint, "/ws", subscribe: false, bufferBytes, cancellationToken),
        ("signalr", _) => SignalRClient.RunAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        ("socketio", "polling") => SocketIoClient.PollingAsync(subscriber, endpoint, bufferBytes, cancellationToken),
        _ => SocketIoClient.WebSocketAsync(subscriber, endpoint, bufferBytes, cancellationToken),
    };

    /// <summary>Where the publisher POSTs one message for <paramref name="channel"/>.</summary>
    public string PublishPath(string channel) => System switch
    {
        "herald" => $"v1/channels/{channel}/messages",
        "raw" => "broadcast",
        _ => $"publish/{Uri.EscapeDataString(channel)}",
    };

    /// <summary>
    /// The publish request body, <paramref name="payloadBytes"/> of data holding the send time
    /// <c>t</c>: Herald <c>{"data":{"t":…,"p":"xx…"}}</c>; the Socket.IO peer takes the same and
    /// numbers it; RawBroadcaster broadcasts the body as the data of a numbered message; SignalR
    /// gets publisher <c>w</c> and its sequence <c>s</c> too.
    /// </summary>
    public byte[] PublishBody(int worker, long sequence, long timestamp, int payloadBytes) => System switch
    {
        "signalr" => Data(payloadBytes, string.Create(CultureInfo.InvariantCulture, $"\"w\":{worker},\"s\":{sequence},\"t\":{timestamp}")),
        "raw" => Data(payloadBytes, string.Create(CultureInfo.InvariantCulture, $"\"t\":{timestamp}")),
        _ => Encoding.ASCII.GetBytes("{\"data\":" + Encoding.ASCII.GetString(Data(payloadBytes, string.Create(CultureInfo.InvariantCulture, $"\"t\":{timestamp}"))) + "}"),
    };

    /// <summary><c>{&lt;members&gt;,"p":"xx…"}</c>, <paramref name="payloadBytes"/> long (or just longer than the members when they do not fit).</summary>
    public static byte[] Data(int payloadBytes, string members)
    {
        var pad = Math.Max(0, payloadBytes - members.Length - 9);
        return Encoding.ASCII.GetBytes("{" + members + ",\"p\":\"" + new string('x', pad) + "\"}");
    }

    /// <summary>The newest sequence number on <paramref name="channel"/>: what every subscriber must reach.</summary>
    public async Task<long> TopAsync(Endpoint endpoint, string channel, string? apiKey)
    {
        var path = System switch
        {
            "herald" => $"v1/channels/{channel}/messages?reverse=true&limit=1",
            "signalr" => $"published/{Uri.EscapeDataString(channel)}",
            "raw" => "top",
            _ => $"top/{Uri.EscapeDataString(channel)}",
        };
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.Uri(path));
        if (apiKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await endpoint.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
        return System == "signalr"
            ? (Utf8Parser.TryParse(body, out long count, out _) ? count : -1)
            : Subscriber.Number(body, "\"top\":"u8);
    }
}
