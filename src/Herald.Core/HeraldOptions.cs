using Herald.Channels;

namespace Herald;

/// <summary>Herald's settings, bound from the <c>Herald</c> configuration section.</summary>
public sealed class HeraldOptions
{
    public const string Section = "Herald";

    /// <summary>Server API keys (sent as <c>Authorization: Bearer</c> or <c>X-Api-Key</c>).</summary>
    public IList<string> ApiKeys { get; } = [];

    /// <summary>Where the SQLite store and the generated API key live.</summary>
    public string DataDirectory { get; set; } = "herald-data";

    /// <summary><c>sqlite</c> (default, durable) or <c>memory</c>.</summary>
    public string Store { get; set; } = "sqlite";

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

    public ChannelPolicy PolicyFor(string channel) =>
        Namespaces.TryGetValue(ChannelName.NamespaceOf(channel), out var policy) ? policy : DefaultPolicy;
}
