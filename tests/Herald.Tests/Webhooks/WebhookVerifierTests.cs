using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Webhooks.Inbound;

namespace Herald.Tests.Webhooks;

/// <summary>
/// Each inbound verifier against its scheme's published example (the only proof of interoperability:
/// a round trip through our own signer would pass with the delimiter or key decoding wrong), then
/// tampering, wrong secrets, stale timestamps and secret rotation.
/// </summary>
public sealed class WebhookVerifierTests
{
    // Standard Webhooks' reference test vector (standard-webhooks/standard-webhooks libraries' tests).
    private const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string StandardId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long StandardTimestamp = 1614265330;
    private const string StandardBody = "{\"test\": 2432232314}";
    private const string StandardSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    // GitHub docs, "Validating webhook deliveries": the example secret, payload and signature.
    private const string GitHubSecret = "It's a Secret to Everybody";
    private const string GitHubBody = "Hello, World!";
    private const string GitHubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    [Fact]
    public void Standard_webhooks_accepts_the_published_test_vector()
    {
        var result = VerifyStandard(StandardSecret, StandardBody, StandardSignature, At(StandardTimestamp));
        Assert.Equal(WebhookOutcome.Valid, result.Outcome);
        Assert.Equal(StandardId, result.DeliveryId);
    }

    [Fact]
    public void Standard_webhooks_accepts_the_vector_among_other_and_unknown_version_signatures()
    {
        var header = "v1a,c29tZXRoaW5n v1,bm9wZQ== " + StandardSignature;
        Assert.True(VerifyStandard(StandardSecret, StandardBody, header, At(StandardTimestamp)).IsValid);
    }

    [Fact]
    public void Standard_webhooks_refuses_a_tampered_body_a_wrong_secret_and_a_missing_header()
    {
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStandard(StandardSecret, "{\"test\": 2432232315}", StandardSignature, At(StandardTimestamp)).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStandard("whsec_" + Convert.ToBase64String(new byte[24]), StandardBody, StandardSignature, At(StandardTimestamp)).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStandard(StandardSecret, StandardBody, null, At(StandardTimestamp)).Outcome);
    }

    [Fact]
    public void Standard_webhooks_refuses_a_stale_or_future_timestamp()
    {
        Assert.Equal(WebhookOutcome.StaleTimestamp, VerifyStandard(StandardSecret, StandardBody, StandardSignature, At(StandardTimestamp + 301)).Outcome);
        Assert.Equal(WebhookOutcome.StaleTimestamp, VerifyStandard(StandardSecret, StandardBody, StandardSignature, At(StandardTimestamp - 301)).Outcome);
        Assert.True(VerifyStandard(StandardSecret, StandardBody, StandardSignature, At(StandardTimestamp + 300)).IsValid);
    }

    [Fact]
    public void Standard_webhooks_accepts_a_rotated_secret()
    {
        var verifier = new StandardWebhooksVerifier();
        var keys = new[] { verifier.DecodeSecret("whsec_" + Convert.ToBase64String(new byte[32]))!, verifier.DecodeSecret(StandardSecret)! };
        var result = verifier.Verify(Headers(("webhook-id", StandardId), ("webhook-timestamp", "1614265330"), ("webhook-signature", StandardSignature)),
            Encoding.UTF8.GetBytes(StandardBody), keys, Tolerance, At(StandardTimestamp));
        Assert.True(result.IsValid);
    }

    [Fact]
    public void Standard_webhooks_takes_the_type_from_the_body_and_refuses_malformed_secrets()
    {
        var verifier = new StandardWebhooksVerifier();
        using var body = JsonDocument.Parse("{\"type\":\"invoice.paid\"}");
        Assert.Equal("invoice.paid", verifier.Describe(new WebhookVerification(WebhookOutcome.Valid, ""), body.RootElement).EventType);
        Assert.Null(verifier.DecodeSecret("whsec_not base64!"));
        Assert.Null(verifier.DecodeSecret("whsec_"));
    }

    [Fact]
    public void GitHub_accepts_the_documented_example()
    {
        var result = VerifyGitHub([GitHubSecret], GitHubBody, GitHubSignature);
        Assert.Equal(WebhookOutcome.Valid, result.Outcome);
        Assert.Equal("delivery-1", result.DeliveryId);
        Assert.Equal("push", result.EventType);
    }

    [Fact]
    public void GitHub_refuses_a_tampered_body_a_wrong_secret_and_a_malformed_header()
    {
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyGitHub([GitHubSecret], "Hello, World?", GitHubSignature).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyGitHub(["It's a Secret to Nobody"], GitHubBody, GitHubSignature).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyGitHub([GitHubSecret], GitHubBody, GitHubSignature[7..]).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyGitHub([GitHubSecret], GitHubBody, "sha256=zz" + GitHubSignature[9..]).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyGitHub([GitHubSecret], GitHubBody, null).Outcome);
    }

    [Fact]
    public void GitHub_accepts_a_rotated_secret()
    {
        Assert.True(VerifyGitHub(["the new secret", GitHubSecret], GitHubBody, GitHubSignature).IsValid);
    }

    [Fact]
    public void Stripe_accepts_a_signature_built_by_its_documented_scheme()
    {
        // Stripe's docs: signed_payload = "{t}.{body}", v1 = hex HMAC-SHA256(endpoint secret, signed_payload).
        const string secret = "whsec_test_secret";
        const string body = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}";
        var header = $"t=1700000000,v1={StripeSign(secret, 1700000000, body)},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
        var result = VerifyStripe([secret], body, header, At(1700000000));
        Assert.Equal(WebhookOutcome.Valid, result.Outcome);

        using var document = JsonDocument.Parse(body);
        var described = new StripeVerifier().Describe(result, document.RootElement);
        Assert.Equal("evt_1", described.DeliveryId);
        Assert.Equal("payment_intent.succeeded", described.EventType);
    }

    [Fact]
    public void Stripe_accepts_a_vector_computed_independently()
    {
        // HMAC-SHA256(key "whsec_test_secret", "1700000000.{}"), computed with Python's hmac module.
        const string v1 = "ceb8863f7208fa249a6cd8f951e993c7563412aca65866f6272283debe143ab3";
        Assert.True(VerifyStripe(["whsec_test_secret"], "{}", "t=1700000000,v1=" + v1, At(1700000000)).IsValid);
    }

    [Fact]
    public void Stripe_refuses_a_tampered_body_a_wrong_secret_a_stale_timestamp_and_accepts_a_rotated_secret()
    {
        const string body = "{\"id\":\"evt_2\"}";
        var header = $"t=1700000000,v1={StripeSign("whsec_a", 1700000000, body)}";
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStripe(["whsec_a"], "{\"id\":\"evt_3\"}", header, At(1700000000)).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStripe(["whsec_b"], body, header, At(1700000000)).Outcome);
        Assert.Equal(WebhookOutcome.StaleTimestamp, VerifyStripe(["whsec_a"], body, header, At(1700000000 + 301)).Outcome);
        Assert.Equal(WebhookOutcome.InvalidSignature, VerifyStripe(["whsec_a"], body, "v1=" + StripeSign("whsec_a", 1700000000, body), At(1700000000)).Outcome);
        Assert.True(VerifyStripe(["whsec_b", "whsec_a"], body, header, At(1700000000)).IsValid);

        // During Stripe's own rotation the header carries one v1 per secret.
        var both = $"t=1700000000,v1={StripeSign("whsec_old", 1700000000, body)},v1={StripeSign("whsec_a", 1700000000, body)}";
        Assert.True(VerifyStripe(["whsec_a"], body, both, At(1700000000)).IsValid);
    }

    [Fact]
    public void Api_key_accepts_bearer_or_header_from_any_secret_and_reads_the_delivery_id()
    {
        var verifier = new ApiKeyVerifier();
        byte[][] keys = [verifier.DecodeSecret("old-key")!, verifier.DecodeSecret("new-key")!];
        var bearer = verifier.Verify(Headers(("Authorization", "Bearer new-key"), ("Idempotency-Key", "d-1")), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow);
        Assert.True(bearer.IsValid);
        Assert.Equal("d-1", bearer.DeliveryId);
        var header = verifier.Verify(Headers(("X-Api-Key", "old-key"), ("X-Delivery-Id", "d-2")), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow);
        Assert.True(header.IsValid);
        Assert.Equal("d-2", header.DeliveryId);
        Assert.Null(verifier.Verify(Headers(("X-Api-Key", "old-key")), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow).DeliveryId);
    }

    [Fact]
    public void Api_key_refuses_a_wrong_or_missing_key()
    {
        var verifier = new ApiKeyVerifier();
        byte[][] keys = [verifier.DecodeSecret("the-key")!];
        Assert.False(verifier.Verify(Headers(("Authorization", "Bearer the-key2")), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow).IsValid);
        Assert.False(verifier.Verify(Headers(("X-Api-Key", "the-ke")), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow).IsValid);
        Assert.False(verifier.Verify(Headers(), "{}"u8, keys, Tolerance, DateTimeOffset.UtcNow).IsValid);
    }

    internal static string StripeSign(string secret, long timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body)));

    private static WebhookVerification VerifyStandard(string secret, string body, string? signature, DateTimeOffset now)
    {
        var verifier = new StandardWebhooksVerifier();
        var headers = signature is null
            ? Headers(("webhook-id", StandardId), ("webhook-timestamp", "1614265330"))
            : Headers(("webhook-id", StandardId), ("webhook-timestamp", "1614265330"), ("webhook-signature", signature));
        return verifier.Verify(headers, Encoding.UTF8.GetBytes(body), [verifier.DecodeSecret(secret)!], Tolerance, now);
    }

    private static WebhookVerification VerifyGitHub(string[] secrets, string body, string? signature)
    {
        var verifier = new GitHubVerifier();
        var headers = signature is null
            ? Headers(("X-GitHub-Delivery", "delivery-1"), ("X-GitHub-Event", "push"))
            : Headers(("X-Hub-Signature-256", signature), ("X-GitHub-Delivery", "delivery-1"), ("X-GitHub-Event", "push"));
        return verifier.Verify(headers, Encoding.UTF8.GetBytes(body), secrets.Select(s => verifier.DecodeSecret(s)!).ToList(), Tolerance, DateTimeOffset.UtcNow);
    }

    private static WebhookVerification VerifyStripe(string[] secrets, string body, string header, DateTimeOffset now)
    {
        var verifier = new StripeVerifier();
        return verifier.Verify(Headers(("Stripe-Signature", header)), Encoding.UTF8.GetBytes(body), secrets.Select(s => verifier.DecodeSecret(s)!).ToList(), Tolerance, now);
    }

    private static DateTimeOffset At(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds);

    private static Func<string, string?> Headers(params (string Name, string Value)[] headers)
    {
        var map = headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);
        return name => map.GetValueOrDefault(name);
    }
}
