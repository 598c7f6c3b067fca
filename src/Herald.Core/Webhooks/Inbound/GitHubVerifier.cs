using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// GitHub: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256 of the raw body&gt;</c> keyed with the
/// secret's UTF-8 bytes; the delivery id is <c>X-GitHub-Delivery</c> and the event <c>X-GitHub-Event</c>.
/// GitHub signs no timestamp, so redeliveries are caught by the delivery id alone.
/// </summary>
internal sealed class GitHubVerifier : IWebhookVerifier
{
    private const string Prefix = "sha256=";

    public byte[]? DecodeSecret(string secret) => secret.Length > 0 ? Encoding.UTF8.GetBytes(secret) : null;

    public WebhookVerification Verify(Func<string, string?> header, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now)
    {
        var signature = header("X-Hub-Signature-256");
        if (signature is null || !signature.StartsWith(Prefix, StringComparison.Ordinal))
            return WebhookVerification.Invalid("X-Hub-Signature-256 must be 'sha256=<hex>'.");

        Span<byte> candidate = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hex = signature.AsSpan(Prefix.Length);
        if (hex.Length != HMACSHA256.HashSizeInBytes * 2
            || Convert.FromHexString(hex, candidate, out _, out var written) != OperationStatus.Done
            || written != HMACSHA256.HashSizeInBytes
            || !WebhookVerifiers.MatchesAnyHmac(candidate, [], body, keys))
        {
            return WebhookVerification.Invalid("X-Hub-Signature-256 does not match a secret of this source.");
        }

        return new WebhookVerification(
            WebhookOutcome.Valid,
            string.Empty,
            DeliveryId: NullIfEmpty(header("X-GitHub-Delivery")),
            EventType: NullIfEmpty(header("X-GitHub-Event")));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
