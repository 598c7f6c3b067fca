using System.Text.Json;

namespace Herald.Client;

/// <summary>Asks for a credential: a user JWT (or an API key). Called again after a refusal and on every reconnect.</summary>
public delegate ValueTask<string?> TokenProvider(CancellationToken cancellationToken);

/// <summary>Sees every message exactly as it came over the wire (one WebSocket message, SSE line, NDJSON line or poll answer).</summary>
public delegate void WireObserver(HeraldTransport transport, ReadOnlySpan<byte> utf8);

/// <summary>Settings of a <see cref="HeraldClient"/>; defaults are the TypeScript SDK's.</summary>
public sealed class HeraldClientOptions
{
    /// <summary>The server, <c>http(s)://host:port</c> (a path prefix is kept). <c>ws(s)://</c> is accepted too.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>A fixed user JWT. Ignored when <see cref="TokenProvider"/> is set.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Returns a fresh user JWT: called for the first connection, on every reconnect and again after a
    /// 401/403 (an expired token), so short-lived tokens keep working.
    /// </summary>
    public TokenProvider? TokenProvider { get; set; }

    /// <summary>A server API key, for services: used when neither <see cref="Token"/> nor <see cref="TokenProvider"/> is set. Never ship one to end users.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Transports to try, in order (default WebSocket, SSE, streaming, long polling). One name forces that transport.</summary>
    public IList<HeraldTransport> Transports { get; } = [.. HeraldTransports.Default];

    /// <summary>Reconnect delays.</summary>
    public BackoffOptions Backoff { get; set; } = new();

    /// <summary>When to move on to the next transport.</summary>
    public FallbackOptions Fallback { get; set; } = new();

    /// <summary>A transport not open by then failed to open (10 s).</summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Publish, history, WebSocket requests and short polls (15 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A push connection silent this long is dead and reconnected (40 s: the server's heartbeat comes every
    /// 15 s); <see cref="TimeSpan.Zero"/> disables the check.
    /// </summary>
    public TimeSpan LivenessTimeout { get; set; } = TimeSpan.FromSeconds(40);

    /// <summary>How long the server holds a long poll (25 s).</summary>
    public TimeSpan LongPollWait { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Pause between short polls (1 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Larger publishes go over HTTP: the server closes a socket (1009) on a bigger message (64 KiB).</summary>
    public int MaxWebSocketMessageBytes { get; set; } = 65536;

    /// <summary>Tries of a publish whose answer was lost (network, timeout, 5xx), always with the same idempotency key (3).</summary>
    public int PublishAttempts { get; set; } = 3;

    /// <summary>
    /// Serializer options for the overloads without a <see cref="System.Text.Json.Serialization.Metadata.JsonTypeInfo{T}"/>:
    /// set a source-generated context as its <c>TypeInfoResolver</c> for trimming and AOT. Default: web defaults (camelCase).
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>The handler behind the HTTP transports and requests (proxies, certificates, tests). The client disposes it only when it created it.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Extra headers on every HTTP request and the WebSocket handshake (e.g. <c>Origin</c>).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Debugging: sees every received message as it came over the wire, before it is parsed.</summary>
    public WireObserver? WireObserver { get; set; }
}

/// <summary>
/// Reconnect delay: attempt n waits a uniform random time in [0, min(<see cref="Max"/>, <see cref="Initial"/> × <see cref="Multiplier"/>^n)]
/// (full jitter), so thousands of clients cut at once do not come back at once.
/// </summary>
public sealed class BackoffOptions
{
    /// <summary>The first ceiling (0.5 s).</summary>
    public TimeSpan Initial { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest ceiling (30 s).</summary>
    public TimeSpan Max { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Growth per attempt (2).</summary>
    public double Multiplier { get; set; } = 2;
}

/// <summary>When a transport counts as blocked (the TypeScript SDK's rules, see its README).</summary>
public sealed class FallbackOptions
{
    /// <summary>Open failures, while the server answers, before a transport that worked before is left (3). One that never opened is left at once.</summary>
    public int RetriesPerTransport { get; set; } = 3;

    /// <summary>Connections cut sooner than <see cref="StableAfter"/>, in a row, before the transport is left (3).</summary>
    public int CutsBeforeFallback { get; set; } = 3;

    /// <summary>A connection that lived this long was working (10 s).</summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(10);
}
