using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// A shared key: <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c> must equal one of
/// the secrets. Nothing signs the body, so this is for senders that can do no better (and only over
/// TLS). The delivery id, when sent, is <c>Idempotency-Key</c> or <c>X-Delivery-Id</c>.
/// </summary>
internal sealed class ApiKeyVerifier : IWebhookVerifier
{
    public byte[]? DecodeSecret(string secret) => secret.Length > 0 ? Encoding.UTF8.GetBytes(secret) : null;

    public WebhookVerification Verify(Func<string, string?> header, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now)
    {
        var presented = header("X-Api-Key");
        var authorization = header("Authorization");
        if (presented is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            presented = authorization["Bearer ".Length..].Trim();
        if (string.IsNullOrEmpty(presented))
            return WebhookVerification.Invalid("An 'Authorization: Bearer <key>' or 'X-Api-Key' header is required.");

        // Compare digests, not the keys themselves, so that neither the length nor a prefix of a key leaks through timing.
        Span<byte> candidate = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), candidate);
        var matched = false;
        foreach (var key in keys)
        {
            SHA256.HashData(key, expected);
            matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        }

        if (!matched)
            return WebhookVerification.Invalid("The key does not match a secret of this source.");

        var delivery = header("Idempotency-Key") ?? header("X-Delivery-Id");
        return new WebhookVerification(WebhookOutcome.Valid, string.Empty, DeliveryId: string.IsNullOrEmpty(delivery) ? null : delivery);
    }
}
