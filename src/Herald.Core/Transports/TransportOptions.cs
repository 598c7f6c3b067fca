namespace Herald.Transports;

/// <summary>Settings of the client-facing transports; bound from <c>Herald:Transports</c>.</summary>
public sealed class TransportOptions
{
    /// <summary>
    /// How often an idle connection hears from the server (SSE comment, NDJSON heartbeat line,
    /// WebSocket ping). 15 s: under the 30–60 s idle timeouts of common proxies and load balancers.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A WebSocket client that sends nothing (not even a pong) for this long is closed.</summary>
    public TimeSpan WebSocketIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Largest inbound WebSocket message; larger ones close the connection with 1009. 64 KiB as Centrifugo.</summary>
    public int MaxWebSocketMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Origins allowed to open a WebSocket (e.g. <c>https://app.example.com</c>); empty allows same-origin only. <c>*</c> allows any.</summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Channels one connection or one poll may name.</summary>
    public int MaxChannelsPerConnection { get; set; } = 64;

    /// <summary>Summary subscriptions (<c>"mode": "summary"</c>) one WebSocket connection may hold, counted apart from <see cref="MaxChannelsPerConnection"/>: a sidebar's rooms.</summary>
    public int MaxSummaryChannelsPerConnection { get; set; } = 1000;

    /// <summary>A channel's summary goes to its summary subscribers at most once per this interval (the first at once, then the newest state).</summary>
    public TimeSpan SummaryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The SSE <c>retry:</c> field: how long a browser waits before reconnecting.</summary>
    public int SseRetryMilliseconds { get; set; } = 2000;

    /// <summary>Default <c>wait</c> of a long poll, in seconds.</summary>
    public int DefaultPollWaitSeconds { get; set; } = 25;

    /// <summary>Largest <c>wait</c> of a long poll, in seconds.</summary>
    public int MaxPollWaitSeconds { get; set; } = 60;

    /// <summary>Most publications one poll answer carries (across its channels).</summary>
    public int MaxPollMessages { get; set; } = 1000;

    /// <summary>Long polls held at once on this node; more are answered 429.</summary>
    public int MaxHeldPolls { get; set; } = 20_000;

    /// <summary>Long polls held at once for one client IP address; more are answered 429.</summary>
    public int MaxHeldPollsPerIp { get; set; } = 2_000;

    internal IEnumerable<string> Validate()
    {
        if (HeartbeatInterval < TimeSpan.FromSeconds(1))
            yield return "Herald:Transports:HeartbeatInterval must be at least 1 second.";
        if (WebSocketIdleTimeout <= HeartbeatInterval)
            yield return "Herald:Transports:WebSocketIdleTimeout must be longer than HeartbeatInterval.";
        if (MaxWebSocketMessageBytes < 128)
            yield return "Herald:Transports:MaxWebSocketMessageBytes must be at least 128.";
        if (MaxChannelsPerConnection < 1)
            yield return "Herald:Transports:MaxChannelsPerConnection must be at least 1.";
        if (MaxSummaryChannelsPerConnection is < 0 or > 100_000)
            yield return "Herald:Transports:MaxSummaryChannelsPerConnection must be from 0 to 100000.";
        if (SummaryInterval < TimeSpan.FromMilliseconds(10) || SummaryInterval > TimeSpan.FromMinutes(1))
            yield return "Herald:Transports:SummaryInterval must be from 10 ms to 1 minute.";
        if (SseRetryMilliseconds < 0)
            yield return "Herald:Transports:SseRetryMilliseconds must not be negative.";
        if (MaxPollWaitSeconds < 0 || DefaultPollWaitSeconds < 0 || DefaultPollWaitSeconds > MaxPollWaitSeconds)
            yield return "Herald:Transports: poll waits must satisfy 0 <= DefaultPollWaitSeconds <= MaxPollWaitSeconds.";
        if (MaxPollMessages < 1)
            yield return "Herald:Transports:MaxPollMessages must be at least 1.";
        foreach (var origin in AllowedOrigins)
        {
            if (origin != "*" && WebSocket.OriginPolicy.Normalize(origin) is null)
                yield return $"Herald:Transports:AllowedOrigins: '{origin}' is not an origin (http(s)://host[:port], no path) nor '*'.";
        }

        if (MaxHeldPolls < 1 || MaxHeldPollsPerIp < 1)
            yield return "Herald:Transports:MaxHeldPolls and MaxHeldPollsPerIp must be at least 1.";
    }
}
