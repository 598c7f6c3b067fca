using Herald.Channels;

namespace Herald.Webhooks.Inbound;

/// <summary>How an inbound webhook source proves its deliveries.</summary>
public enum WebhookScheme
{
    /// <summary>Standard Webhooks: <c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>.</summary>
    StandardWebhooks,

    /// <summary>GitHub: <c>X-Hub-Signature-256</c>, <c>X-GitHub-Delivery</c>, <c>X-GitHub-Event</c>.</summary>
    GitHub,

    /// <summary>Stripe: <c>Stripe-Signature: t=...,v1=...</c>.</summary>
    Stripe,

    /// <summary>A shared key in <c>Authorization: Bearer</c> or <c>X-Api-Key</c>.</summary>
    ApiKey,
}

/// <summary>Webhooks both ways, bound from <c>Herald:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    /// <summary>Inbound sources by name; a source named <c>github</c> receives at <c>POST /v1/webhooks/in/github</c>.</summary>
    public IDictionary<string, WebhookSourceOptions> Sources { get; } = new Dictionary<string, WebhookSourceOptions>(StringComparer.Ordinal);

    /// <summary>Outbound deliveries to subscribed endpoints.</summary>
    public Herald.Webhooks.Outbound.OutboundWebhookOptions Outbound { get; set; } = new();

    internal List<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (name, source) in Sources)
        {
            var prefix = $"Herald:Webhooks:Sources:{name}";
            if (!IsValidSourceName(name))
                errors.Add($"{prefix}: the source name must be 1 to 64 characters of a-z, 0-9, '_' and '-'.");
            errors.AddRange(source.Validate(prefix));
        }

        errors.AddRange(Outbound.Validate());
        return errors;
    }

    internal static bool IsValidSourceName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-');
}

/// <summary>One inbound webhook source.</summary>
public sealed class WebhookSourceOptions
{
    /// <summary>How deliveries are verified. Required.</summary>
    public WebhookScheme? Scheme { get; set; }

    /// <summary>
    /// Accepted secrets; a delivery matching any of them is accepted, so a new secret can be added
    /// before the sender switches and the old one removed after. Standard Webhooks secrets are
    /// <c>whsec_&lt;base64&gt;</c>; the others are used as their UTF-8 bytes.
    /// </summary>
    public IList<string> Secrets { get; } = [];

    /// <summary>A channel (<c>notify:deploys</c>) or a template filled from the JSON body (<c>notify:{repository.full_name}</c>).</summary>
    public string Channel { get; set; } = string.Empty;

    /// <summary>How far a signed timestamp may be from now (Standard Webhooks, Stripe).</summary>
    public TimeSpan Tolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest accepted body.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a delivery id is remembered to drop redeliveries.</summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromDays(3);

    internal IEnumerable<string> Validate(string prefix)
    {
        if (Scheme is null)
            yield return $"{prefix}:Scheme is required (StandardWebhooks, GitHub, Stripe or ApiKey).";
        if (Secrets.Count == 0)
            yield return $"{prefix}:Secrets needs at least one secret.";
        for (var i = 0; i < Secrets.Count; i++)
        {
            if (Scheme is { } scheme && WebhookVerifiers.For(scheme).DecodeSecret(Secrets[i]) is null)
                yield return $"{prefix}:Secrets:{i} is not a valid {scheme} secret" + (scheme == WebhookScheme.StandardWebhooks ? " ('whsec_' followed by base64)." : ".");
        }

        if (ChannelTemplate.Parse(Channel, out var templateError) is null)
            yield return $"{prefix}:Channel: {templateError}";
        if (Tolerance <= TimeSpan.Zero)
            yield return $"{prefix}:Tolerance must be positive.";
        if (MaxBodyBytes is < 1 or > 64 * 1024 * 1024)
            yield return $"{prefix}:MaxBodyBytes must be between 1 and 67108864.";
        if (DedupeWindow < TimeSpan.Zero)
            yield return $"{prefix}:DedupeWindow must not be negative.";
    }
}
