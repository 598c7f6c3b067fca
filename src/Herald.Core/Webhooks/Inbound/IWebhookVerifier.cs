using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Herald.Webhooks.Inbound;

internal enum WebhookOutcome
{
    Valid,
    InvalidSignature,
    StaleTimestamp,
}

/// <summary>What a verifier concluded, and what it learned of the delivery on the way.</summary>
/// <param name="DeliveryId">The sender's id of this delivery (same on every retry), when the scheme has one.</param>
/// <param name="EventType">The event type, when the scheme has one.</param>
internal readonly record struct WebhookVerification(WebhookOutcome Outcome, string Detail, string? DeliveryId = null, string? EventType = null)
{
    public static WebhookVerification Invalid(string detail) => new(WebhookOutcome.InvalidSignature, detail);

    public static WebhookVerification Stale(string detail) => new(WebhookOutcome.StaleTimestamp, detail);

    public bool IsValid => Outcome == WebhookOutcome.Valid;
}

/// <summary>Verifies one scheme's signature over the raw body bytes. Implementations are stateless.</summary>
internal interface IWebhookVerifier
{
    /// <summary>The key bytes a configured secret stands for, or null when it is malformed.</summary>
    byte[]? DecodeSecret(string secret);

    /// <summary>Checks the delivery against every key (rotation) and the timestamp tolerance.</summary>
    /// <param name="header">A request header's value, or null when absent.</param>
    WebhookVerification Verify(Func<string, string?> header, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now);

    /// <summary>Completes a valid verification with what the scheme keeps in the (now trusted) JSON body.</summary>
    WebhookVerification Describe(WebhookVerification verified, JsonElement body) => verified;
}

internal static class WebhookVerifiers
{
    private static readonly IWebhookVerifier s_standard = new StandardWebhooksVerifier();
    private static readonly IWebhookVerifier s_gitHub = new GitHubVerifier();
    private static readonly IWebhookVerifier s_stripe = new StripeVerifier();
    private static readonly IWebhookVerifier s_apiKey = new ApiKeyVerifier();

    public static IWebhookVerifier For(WebhookScheme scheme) => scheme switch
    {
        WebhookScheme.StandardWebhooks => s_standard,
        WebhookScheme.GitHub => s_gitHub,
        WebhookScheme.Stripe => s_stripe,
        WebhookScheme.ApiKey => s_apiKey,
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown webhook scheme."),
    };

    /// <summary>
    /// Whether <paramref name="candidate"/> equals HMAC-SHA256(key, prefix + body) for one of
    /// <paramref name="keys"/>, in constant time per key. The body is hashed where it lies (the
    /// request's buffers), never copied.
    /// </summary>
    public static bool MatchesAnyHmac(ReadOnlySpan<byte> candidate, ReadOnlySpan<byte> prefix, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> keys)
    {
        if (candidate.Length != HMACSHA256.HashSizeInBytes)
            return false;
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var matched = false;
        foreach (var key in keys)
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            hmac.AppendData(prefix);
            foreach (var segment in body)
                hmac.AppendData(segment.Span);
            hmac.GetHashAndReset(expected);
            matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        }

        return matched;
    }

    /// <summary>Verifies a body held in one array (tests, tools).</summary>
    public static WebhookVerification Verify(this IWebhookVerifier verifier, Func<string, string?> header, ReadOnlySpan<byte> body, IReadOnlyList<byte[]> keys, TimeSpan tolerance, DateTimeOffset now) =>
        verifier.Verify(header, new ReadOnlySequence<byte>(body.ToArray()), keys, tolerance, now);

    /// <summary>Whether a unix-seconds timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>.</summary>
    public static bool IsFresh(long unixSeconds, TimeSpan tolerance, DateTimeOffset now)
    {
        var age = Math.Abs(now.ToUnixTimeSeconds() - unixSeconds);
        return age <= (long)tolerance.TotalSeconds;
    }

    /// <summary>A top-level string member of a JSON object, or null.</summary>
    public static string? StringMember(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
