using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Webhooks;

/// <summary>
/// Standard Webhooks signatures (https://www.standardwebhooks.com), for both directions: a
/// <c>v1,</c> signature is the base64 HMAC-SHA256 of <c>{webhook-id}.{webhook-timestamp}.{body}</c>
/// keyed with the base64-decoded part of a <c>whsec_</c> secret.
/// </summary>
internal static class StandardWebhooksSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>32 bytes: the HMAC-SHA256 block-size-safe key length the specification recommends (24 to 64).</summary>
    public const int SecretBytes = 32;

    /// <summary>The shortest key accepted for an outbound subscription's own secret (the specification's minimum).</summary>
    public const int MinSecretBytes = 24;

    /// <summary>What is signed before the body: <c>{id}.{timestamp}.</c> (the body follows byte for byte).</summary>
    public static byte[] SignedPrefix(string id, string timestamp) => Encoding.UTF8.GetBytes($"{id}.{timestamp}.");

    /// <summary>The bytes that are signed: <c>{id}.{timestamp}.{body}</c>, the body byte for byte.</summary>
    public static byte[] SignedContent(string id, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = SignedPrefix(id, timestamp);
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return content;
    }

    /// <summary>The <c>webhook-signature</c> header value for one key: <c>v1,&lt;base64&gt;</c>.</summary>
    public static string Sign(ReadOnlySpan<byte> key, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, SignedContent(id, timestamp.ToString(CultureInfo.InvariantCulture), body), mac);
        return "v1," + Convert.ToBase64String(mac);
    }

    /// <summary>The key of a <c>whsec_&lt;base64&gt;</c> secret (the prefix is optional), or null when it is not base64.</summary>
    public static byte[]? DecodeSecret(string secret)
    {
        var encoded = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret;
        var buffer = new byte[encoded.Length];
        return encoded.Length > 0 && Convert.TryFromBase64String(encoded, buffer, out var written) && written > 0
            ? buffer[..written]
            : null;
    }

    /// <summary>A new random secret: <c>whsec_</c> and 32 random bytes in base64.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));
}
