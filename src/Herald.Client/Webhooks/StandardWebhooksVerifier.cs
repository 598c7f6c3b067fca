using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Client.Webhooks;

/// <summary>
/// Verifies a Standard Webhooks signature (https://www.standardwebhooks.com), as Herald signs its outbound
/// webhooks: <c>webhook-signature</c> holds one or more space-separated <c>v1,&lt;base64&gt;</c>, each the
/// HMAC-SHA256 of <c>{webhook-id}.{webhook-timestamp}.{body}</c> keyed with the base64 part of the
/// <c>whsec_</c> secret. Verify the raw body, byte for byte, before parsing it; then deduplicate on
/// <c>webhook-id</c> (a retry or replay carries the same one).
/// </summary>
public sealed class StandardWebhooksVerifier
{
    private readonly byte[][] keys;

    /// <summary>A verifier for one or more secrets (several while rotating one), each <c>whsec_&lt;base64&gt;</c>.</summary>
    public StandardWebhooksVerifier(params string[] secrets)
    {
        if (secrets is null || secrets.Length == 0)
            throw new ArgumentException("At least one secret is required.", nameof(secrets));
        keys = [.. secrets.Select(s => DecodeSecret(s) ?? throw new ArgumentException("A secret is 'whsec_' and base64.", nameof(secrets)))];
    }

    /// <summary>How far the timestamp may be from this machine's clock (5 minutes, as the specification suggests).</summary>
    public TimeSpan Tolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// True when one of the <c>v1</c> signatures matches under one of the secrets and the timestamp is within
    /// <see cref="Tolerance"/> of <paramref name="now"/> (default: the current time).
    /// </summary>
    public bool Verify(string? webhookId, string? webhookTimestamp, string? webhookSignature, ReadOnlySpan<byte> body, DateTimeOffset? now = null)
    {
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(webhookSignature)
            || !long.TryParse(webhookTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return false;
        var clock = (now ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        if (Math.Abs(clock - seconds) > Tolerance.TotalSeconds)
            return false;

        var prefix = Encoding.UTF8.GetBytes($"{webhookId}.{webhookTimestamp}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        Span<byte> expected = stackalloc byte[32];
        Span<byte> given = stackalloc byte[64];
        foreach (var key in keys)
        {
            using var hmac = new HMACSHA256(key);
            if (!hmac.TryComputeHash(content, expected, out _))
                return false;
            foreach (var signature in webhookSignature.Split(' '))
            {
                if (!signature.StartsWith("v1,", StringComparison.Ordinal))
                    continue;
                if (Convert.TryFromBase64String(signature.Substring(3), given, out var written)
                    && written == expected.Length
                    && CryptographicOperations.FixedTimeEquals(given[..written], expected))
                    return true;
            }
        }

        return false;
    }

    /// <summary>The <c>webhook-signature</c> value for a body (for tests and for senders of your own).</summary>
    public static string Sign(string secret, string webhookId, long timestamp, ReadOnlySpan<byte> body)
    {
        var key = DecodeSecret(secret) ?? throw new ArgumentException("A secret is 'whsec_' and base64.", nameof(secret));
        var prefix = Encoding.UTF8.GetBytes($"{webhookId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        using var hmac = new HMACSHA256(key);
        return "v1," + Convert.ToBase64String(hmac.ComputeHash(content));
    }

    private static byte[]? DecodeSecret(string secret)
    {
        if (string.IsNullOrEmpty(secret))
            return null;
        var encoded = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret.Substring(6) : secret;
        var buffer = new byte[encoded.Length];
        return encoded.Length > 0 && Convert.TryFromBase64String(encoded, buffer, out var written) && written > 0 ? buffer.AsSpan(0, written).ToArray() : null;
    }
}
