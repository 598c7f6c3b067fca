namespace Herald.Client;

/// <summary>The ways of reading a channel, in the default order of preference.</summary>
public enum HeraldTransport
{
    /// <summary><c>GET /v1/ws</c>: one full-duplex socket for every channel, publish and history.</summary>
    WebSocket,

    /// <summary><c>GET /v1/sse</c>: Server-Sent Events.</summary>
    Sse,

    /// <summary><c>GET /v1/stream</c>: NDJSON over one chunked response.</summary>
    Stream,

    /// <summary><c>GET /v1/poll?wait=25</c>: long polling.</summary>
    LongPoll,

    /// <summary><c>GET /v1/poll?wait=0</c> every <see cref="HeraldClientOptions.PollInterval"/>: short polling.</summary>
    Poll,
}

/// <summary>The client's connection state.</summary>
public enum ConnectionState
{
    /// <summary>No connection: nothing to carry, or waiting before the next attempt.</summary>
    Disconnected,

    /// <summary>A transport is being opened.</summary>
    Connecting,

    /// <summary>A transport is open.</summary>
    Connected,

    /// <summary>The client was disposed.</summary>
    Closed,
}

/// <summary>Names of transports as the protocol and the TypeScript SDK spell them.</summary>
public static class HeraldTransports
{
    /// <summary>WebSocket, SSE, streaming, long polling: the default order (short polling is opt-in).</summary>
    public static IReadOnlyList<HeraldTransport> Default { get; } =
        [HeraldTransport.WebSocket, HeraldTransport.Sse, HeraldTransport.Stream, HeraldTransport.LongPoll];

    /// <summary><c>ws</c>, <c>sse</c>, <c>stream</c>, <c>longpoll</c> or <c>poll</c>.</summary>
    public static string Name(this HeraldTransport transport) => transport switch
    {
        HeraldTransport.WebSocket => "ws",
        HeraldTransport.Sse => "sse",
        HeraldTransport.Stream => "stream",
        HeraldTransport.LongPoll => "longpoll",
        _ => "poll",
    };

    /// <summary>Parses <c>ws</c>, <c>sse</c>, <c>stream</c>, <c>longpoll</c> or <c>poll</c>.</summary>
    public static bool TryParse(string name, out HeraldTransport transport)
    {
        switch (name)
        {
            case "ws": transport = HeraldTransport.WebSocket; return true;
            case "sse": transport = HeraldTransport.Sse; return true;
            case "stream": transport = HeraldTransport.Stream; return true;
            case "longpoll": transport = HeraldTransport.LongPoll; return true;
            case "poll": transport = HeraldTransport.Poll; return true;
            default: transport = default; return false;
        }
    }
}
