namespace Herald.Webhooks.Outbound;

/// <summary>Outbound webhooks, bound from <c>Herald:Webhooks:Outbound</c>.</summary>
public sealed class OutboundWebhookOptions
{
    private RetrySchedule? schedule;

    /// <summary>Waits before each attempt (see <see cref="Outbound.RetrySchedule"/>): <c>0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h</c>.</summary>
    public string RetrySchedule { get; set; } = Outbound.RetrySchedule.Default;

    /// <summary>How long one attempt may take, connection included, before it counts as failed. 15 s: a receiver should answer before doing the work.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts in flight at once, over every subscription.</summary>
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>Attempts in flight at once to one subscription (an ordered subscription has one).</summary>
    public int MaxConcurrencyPerSubscription { get; set; } = 32;

    /// <summary>
    /// Allows targets on loopback, private, link-local and other non-public addresses. Off by
    /// default: an API key holder must not be able to make Herald call into its own network (SSRF).
    /// For development and tests only.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How long a delivered or dead-lettered delivery stays listed (and replayable) after it was created.</summary>
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Subscriptions at most.</summary>
    public int MaxSubscriptions { get; set; } = 1000;

    /// <summary>Channel patterns per subscription at most.</summary>
    public int MaxChannelPatterns { get; set; } = 32;

    /// <summary>Longest target URL.</summary>
    public int MaxUrlLength { get; set; } = 2048;

    /// <summary>Largest <c>limit</c> of <c>GET /v1/webhooks/deliveries</c>.</summary>
    public int MaxPageSize { get; set; } = 1000;

    internal RetrySchedule Schedule => schedule ??= Outbound.RetrySchedule.TryParse(RetrySchedule, out var parsed, out _)
        ? parsed
        : throw new InvalidOperationException("Herald:Webhooks:Outbound:RetrySchedule was not validated.");

    internal IEnumerable<string> Validate()
    {
        const string Prefix = "Herald:Webhooks:Outbound";
        if (!Outbound.RetrySchedule.TryParse(RetrySchedule, out _, out var scheduleError))
            yield return $"{Prefix}:RetrySchedule: {scheduleError}";
        if (AttemptTimeout < TimeSpan.FromMilliseconds(100) || AttemptTimeout > TimeSpan.FromMinutes(10))
            yield return $"{Prefix}:AttemptTimeout must be between 00:00:00.1 and 00:10:00.";
        if (MaxConcurrency is < 1 or > 10_000)
            yield return $"{Prefix}:MaxConcurrency must be between 1 and 10000.";
        if (MaxConcurrencyPerSubscription < 1 || MaxConcurrencyPerSubscription > MaxConcurrency)
            yield return $"{Prefix}:MaxConcurrencyPerSubscription must be between 1 and MaxConcurrency.";
        if (DeliveryRetention < TimeSpan.FromMinutes(1))
            yield return $"{Prefix}:DeliveryRetention must be at least 00:01:00.";
        if (MaxSubscriptions is < 1 or > 1_000_000)
            yield return $"{Prefix}:MaxSubscriptions must be between 1 and 1000000.";
        if (MaxChannelPatterns is < 1 or > 1000)
            yield return $"{Prefix}:MaxChannelPatterns must be between 1 and 1000.";
        if (MaxUrlLength is < 32 or > 65536)
            yield return $"{Prefix}:MaxUrlLength must be between 32 and 65536.";
        if (MaxPageSize is < 1 or > 100_000)
            yield return $"{Prefix}:MaxPageSize must be between 1 and 100000.";
    }
}
