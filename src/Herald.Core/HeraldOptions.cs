using Herald.Channels;

namespace Herald;

/// <summary>
/// Herald's settings, bound from the <c>Herald</c> configuration section. Its public settable
/// properties (and those of the classes it holds) are the known keys of the start-up check
/// (<see cref="Settings.SettingsCheck"/>): a new setting is a new property, nothing else; a part
/// that binds a section of its own registers it with <c>AddHeraldSettings&lt;T&gt;</c>.
/// </summary>
public sealed class HeraldOptions
{
    public const string Section = "Herald";

    /// <summary>Server API keys (sent as <c>Authorization: Bearer</c> or <c>X-Api-Key</c>).</summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>User tokens (JWT).</summary>
    public Auth.TokenOptions Auth { get; set; } = new();

    /// <summary>The client-facing transports (WebSocket, SSE, streaming, long polling).</summary>
    public Transports.TransportOptions Transports { get; set; } = new();

    /// <summary>Where the SQLite store and the generated API key live.</summary>
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary>The engine <c>herald serve</c> uses: <c>sqlite</c> (default, durable, one node), <c>redis</c> (several nodes) or <c>memory</c>. Hosts that call <c>UseSqlite()</c> etc. themselves ignore it.</summary>
    public string Store { get; set; } = "sqlite";

    /// <summary>The values <see cref="Store"/> takes: the engines <c>herald serve</c> ships.</summary>
    public static IReadOnlyList<string> Stores { get; } = ["sqlite", "memory", "redis"];

    /// <summary>Connections this node accepts, in all and per client address (file descriptors are finite).</summary>
    public Transports.Connections.ConnectionOptions Connections { get; set; } = new();

    /// <summary>How this node follows its engine's broker.</summary>
    public Hub.NodeOptions Node { get; set; } = new();

    /// <summary>Policy per namespace (the part of a channel name before ':').</summary>
    public IDictionary<string, ChannelPolicy> Namespaces { get; } = new Dictionary<string, ChannelPolicy>(StringComparer.Ordinal);

    /// <summary>Policy of namespaces not listed in <see cref="Namespaces"/>.</summary>
    public ChannelPolicy DefaultPolicy { get; set; } = new();

    /// <summary>How long an <c>Idempotency-Key</c> is remembered per channel.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Largest <c>limit</c> a history read accepts (and the default).</summary>
    public int MaxHistoryLimit { get; set; } = 1000;

    /// <summary>Bytes a session may have queued before it is disconnected as a slow consumer. 1 MiB as Centrifugo.</summary>
    public int MaxQueuedBytesPerSession { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long <c>herald serve</c> drains on SIGTERM before it exits: push clients are told to
    /// reconnect (3001), held polls answered, requests in flight finished and the store closed.
    /// 15 s: a healthy drain takes well under a second (a silent WebSocket client is given 5 s
    /// for its close handshake), and it stays under the 30 s an orchestrator commonly waits
    /// before SIGKILL (Kubernetes' terminationGracePeriodSeconds).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Longest request target (path and query) answered; longer ones get <c>414 uri_too_long</c>.
    /// 8 KiB: Kestrel's own default request line, and far above the longest Herald URL (64
    /// channels of 128 characters and a cursor of 4,096 in one poll URL: about 13 KiB — raise it for those).
    /// </summary>
    public int MaxRequestTargetBytes { get; set; } = 8 * 1024;

    /// <summary>Inbound webhook sources (<c>POST /v1/webhooks/in/{source}</c>).</summary>
    public Webhooks.Inbound.WebhookOptions Webhooks { get; set; } = new();

    /// <summary>The stats endpoints the dashboard reads (<c>GET /v1/stats</c>, <c>/v1/stats/stream</c>).</summary>
    public Stats.StatsOptions Stats { get; set; } = new();

    /// <summary>Which other origins' pages may call the HTTP API from a browser.</summary>
    public Http.CorsOptions Cors { get; set; } = new();

    /// <summary>The <c>Herald</c> meter's export: Prometheus at <c>/metrics</c>, optionally OTLP (docs/metrics.md).</summary>
    public Stats.MetricsOptions Metrics { get; set; } = new();

    /// <summary>Read markers, unread counts, mentions and their sync across a user's devices (<c>Herald:Unread</c>).</summary>
    public Reading.UnreadOptions Unread { get; set; } = new();

    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
            errors.Add("Herald:DataDirectory must not be empty.");
        if (IdempotencyWindow < TimeSpan.Zero)
            errors.Add("Herald:IdempotencyWindow must not be negative.");
        if (MaxHistoryLimit < 1)
            errors.Add("Herald:MaxHistoryLimit must be at least 1.");
        if (ShutdownTimeout < TimeSpan.FromSeconds(1) || ShutdownTimeout > TimeSpan.FromMinutes(10))
            errors.Add("Herald:ShutdownTimeout must be from 00:00:01 to 00:10:00.");
        if (MaxRequestTargetBytes < 1024 || MaxRequestTargetBytes > 1024 * 1024)
            errors.Add("Herald:MaxRequestTargetBytes must be between 1024 and 1048576.");
        if (MaxQueuedBytesPerSession < 1024)
            errors.Add("Herald:MaxQueuedBytesPerSession must be at least 1024.");
        if (!Stores.Any(s => s.Equals(Store, StringComparison.OrdinalIgnoreCase)))
            errors.Add($"Herald:Store must be one of {string.Join(", ", Stores)}, not '{Store}'.");
        errors.AddRange(Node.Validate());
        errors.AddRange(Auth.Validate());
        errors.AddRange(Transports.Validate());
        errors.AddRange(Connections.Validate(Herald.Transports.Connections.FileDescriptorLimit.Current?.Soft));
        errors.AddRange(Webhooks.Validate());
        errors.AddRange(Stats.Validate());
        errors.AddRange(Cors.Validate());
        errors.AddRange(Metrics.Validate());
        errors.AddRange(Unread.Validate(this));
        errors.AddRange(DefaultPolicy.Validate("(default)"));
        if (DefaultPolicy.AutoSubscribe)
            errors.Add($"Herald:DefaultPolicy:AutoSubscribe: set it on a personal namespace instead (Herald:Namespaces:{PersonalNamespace}:AutoSubscribe).");
        foreach (var (name, policy) in Namespaces)
        {
            if (!Channels.ChannelName.IsValid(name + ":x"))
                errors.Add($"Herald:Namespaces: '{name}' is not a valid namespace name.");
            errors.AddRange(policy.Validate(name));
            if (policy.AutoSubscribe && KindOf(name) != ChannelKind.Personal)
                errors.Add($"Herald:Namespaces:{name}:AutoSubscribe applies only to personal namespaces (Kind: Personal); '{name}' is {KindOf(name)}.");
        }

        return errors;
    }

    public ChannelPolicy PolicyFor(string channel) =>
        Namespaces.TryGetValue(ChannelName.NamespaceOf(channel), out var policy) ? policy : DefaultPolicy;

    /// <summary>The namespace used for personal channels when no namespace says <c>Kind: Personal</c>.</summary>
    public const string PersonalNamespace = "me";

    /// <summary>The namespace used for direct channels when no namespace says <c>Kind: Direct</c>.</summary>
    public const string DirectNamespace = "dm";

    /// <summary>Whether <paramref name="channel"/> keeps receipts: its namespace's <see cref="ChannelPolicy.Receipts"/>, or the default for its kind.</summary>
    public ReceiptsMode ReceiptsOf(string channel) =>
        PolicyFor(channel).ReceiptsFor(KindOf(ChannelName.NamespaceOf(channel)));

    /// <summary>Whether <paramref name="channel"/> keeps receipts at all (<see cref="ReceiptsOf"/> is not <see cref="ReceiptsMode.Off"/>).</summary>
    public bool KeepsReceipts(string channel) => ReceiptsOf(channel) != ReceiptsMode.Off;

    /// <summary>The kind of namespace <paramref name="ns"/>: its own <c>Kind</c>, else by name (<c>me</c>, <c>dm</c>), else public.</summary>
    public ChannelKind KindOf(string ns) =>
        (Namespaces.TryGetValue(ns, out var policy) ? policy.Kind : null)
        ?? ns switch
        {
            PersonalNamespace => ChannelKind.Personal,
            DirectNamespace => ChannelKind.Direct,
            _ => ChannelKind.Public,
        };
}
