using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;...]</c>, each v1 an
/// HMAC-SHA256 of <c>{t}.{body}</c> keyed with the endpoint secret's UTF-8 bytes (the whole
/// <c>whsec_...</c> string); <c>t</c> must be within the tolerance. The delivery id is the event's
/// <c>id</c> and the type its <c>type</c>, both from the body.
/// </summary>
internal sealed class StripeVerifier : IWebhookVerifier
{
    public byte[]? DecodeSecret(string secret) => secret.Length > 0 ? Encoding.UTF8.GetBytes(secret) : null;

    public WebhookVerification Verify(Func<string, string?> header, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now)
    {
        var value = header("Stripe-Signature");
        if (string.IsNullOrEmpty(value))
            return WebhookVerification.Invalid("The Stripe-Signature header is required.");

        string? timestamp = null;
        var signatures = new List<string>();
        foreach (var item in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                continue;
            var key = item[..equals];
            if (key == "t")
                timestamp ??= item[(equals + 1)..];
            else if (key == "v1")
                signatures.Add(item[(equals + 1)..]);
        }

        if (timestamp is null || signatures.Count == 0
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return WebhookVerification.Invalid("Stripe-Signature must hold 't=<unix seconds>' and at least one 'v1=<hex>'.");
        }

        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");

        var matched = false;
        Span<byte> candidate = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var hex in signatures)
        {
            if (hex.Length == HMACSHA256.HashSizeInBytes * 2
                && Convert.FromHexString(hex, candidate, out _, out var written) == OperationStatus.Done
                && written == HMACSHA256.HashSizeInBytes
                && WebhookVerifiers.MatchesAnyHmac(candidate, prefix, body, keys))
            {
                matched = true;
            }
        }

        if (!matched)
            return WebhookVerification.Invalid("No v1 signature in Stripe-Signature matches a secret of this source.");
        if (!WebhookVerifiers.IsFresh(seconds, tolerance, now))
            return WebhookVerification.Stale($"Stripe-Signature t={seconds} is more than {tolerance} away from the server's clock.");
        return new WebhookVerification(WebhookOutcome.Valid, string.Empty);
    }

    public WebhookVerification Describe(WebhookVerification verified, JsonElement body) =>
        verified with
        {
            DeliveryId = WebhookVerifiers.StringMember(body, "id"),
            EventType = WebhookVerifiers.StringMember(body, "type"),
        };
}
