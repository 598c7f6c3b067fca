using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// Standard Webhooks (https://www.standardwebhooks.com): <c>webhook-signature</c> holds space-separated
/// <c>v1,&lt;base64 HMAC-SHA256&gt;</c> entries over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, keyed
/// with the base64-decoded part of a <c>whsec_</c> secret; the timestamp must be within the tolerance.
/// </summary>
internal sealed class StandardWebhooksVerifier : IWebhookVerifier
{
    public byte[]? DecodeSecret(string secret) => StandardWebhooksSignature.DecodeSecret(secret);

    public WebhookVerification Verify(Func<string, string?> header, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now)
    {
        var id = header("webhook-id");
        var timestamp = header("webhook-timestamp");
        var signatures = header("webhook-signature");
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatures))
            return WebhookVerification.Invalid("The webhook-id, webhook-timestamp and webhook-signature headers are required.");
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return WebhookVerification.Invalid("webhook-timestamp must be integer unix seconds.");

        var prefix = StandardWebhooksSignature.SignedPrefix(id, timestamp);

        var matched = false;
        Span<byte> candidate = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // Other versions (e.g. "v1a," for asymmetric signatures) are skipped, as the specification asks.
            if (!entry.StartsWith("v1,", StringComparison.Ordinal))
                continue;
            if (Convert.TryFromBase64String(entry[3..], candidate, out var written)
                && written == HMACSHA256.HashSizeInBytes
                && WebhookVerifiers.MatchesAnyHmac(candidate, prefix, body, keys))
            {
                matched = true;
            }
        }

        if (!matched)
            return WebhookVerification.Invalid("No v1 signature in webhook-signature matches a secret of this source.");
        if (!WebhookVerifiers.IsFresh(seconds, tolerance, now))
            return WebhookVerification.Stale($"webhook-timestamp {seconds} is more than {tolerance} away from the server's clock.");
        return new WebhookVerification(WebhookOutcome.Valid, string.Empty, DeliveryId: id);
    }

    public WebhookVerification Describe(WebhookVerification verified, JsonElement body) =>
        verified with { EventType = WebhookVerifiers.StringMember(body, "type") };
}
