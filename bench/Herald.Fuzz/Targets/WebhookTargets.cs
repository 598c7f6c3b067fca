using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Publishing;
using Herald.Webhooks;
using Herald.Webhooks.Inbound;

namespace Herald.Fuzz.Targets;

/// <summary>
/// A signed delivery: the first byte picks the scheme (GitHub, Stripe, Standard Webhooks, API key),
/// then <c>Name: value</c> header lines, a blank line, the body. In header values <c>$SIG</c> becomes the
/// right signature of the body (so the fuzzer also explores the accepted path) and <c>$NOW</c> the clock.
/// </summary>
internal sealed class WebhookSignatureTarget : IFuzzTarget
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_tolerance = TimeSpan.FromMinutes(5);
    private static readonly WebhookScheme[] s_schemes = [WebhookScheme.GitHub, WebhookScheme.Stripe, WebhookScheme.StandardWebhooks, WebhookScheme.ApiKey];
    private static readonly string[] s_secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "It's a Secret to Everybody"];

    public string Name => "webhook-signature";

    public string Description => "IWebhookVerifier.Verify(headers, body) for GitHub, Stripe, Standard Webhooks, API key; Valid only with a right signature and a fresh timestamp, and the right signature always verifies";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var scheme = s_schemes[input[0] % s_schemes.Length];
        var verifier = WebhookVerifiers.For(scheme);
        var keys = s_secrets.Select(verifier.DecodeSecret).OfType<byte[]>().ToList();
        Check.That(keys.Count > 0, "No secret decodes.");

        var (headerText, body) = SplitHead(input[1..]);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var provisional = headerText.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        var now = s_now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        foreach (var line in provisional)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                continue;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim().Replace("$NOW", now, StringComparison.Ordinal);
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + "," + value : value;
        }

        foreach (var (name, value) in headers.ToList())
            headers[name] = value.Replace("$SIG", Signature(scheme, keys[0], headers, body), StringComparison.Ordinal);

        var sequence = new ReadOnlySequence<byte>(body);
        var verification = verifier.Verify(name => headers.GetValueOrDefault(name), sequence, keys, s_tolerance, s_now);
        if (verification.IsValid)
        {
            Check.That(Sound(scheme, headers, body, keys), $"{scheme}: accepted without a right, fresh signature.");
            Check.That(verification.DeliveryId is null or { Length: > 0 } && verification.EventType is null or { Length: > 0 }, "Empty delivery id or event type.");
        }
        else
        {
            Check.That(verification.Detail.Length > 0, "A refusal has no detail.");
        }

        // The right signature of this body always verifies.
        var signed = SignedHeaders(scheme, keys[^1], body);
        Check.That(verifier.Verify(name => signed.GetValueOrDefault(name), sequence, keys, s_tolerance, s_now).IsValid,
            $"{scheme}: the right signature of this body was refused.");
    }

    private static (string Head, byte[] Body) SplitHead(ReadOnlySpan<byte> input)
    {
        var end = input.IndexOf("\n\n"u8);
        return end < 0 ? (Encoding.UTF8.GetString(input), []) : (Encoding.UTF8.GetString(input[..end]), input[(end + 2)..].ToArray());
    }

    private static byte[] Mac(byte[] key, string prefix, byte[] body) => HMACSHA256.HashData(key, (byte[])[.. Encoding.UTF8.GetBytes(prefix), .. body]);

    private static string Signature(WebhookScheme scheme, byte[] key, Dictionary<string, string> headers, byte[] body) => scheme switch
    {
        WebhookScheme.GitHub => Convert.ToHexStringLower(Mac(key, "", body)),
        WebhookScheme.Stripe => Convert.ToHexStringLower(Mac(key, StripeTimestamp(headers.GetValueOrDefault("Stripe-Signature")) + ".", body)),
        WebhookScheme.StandardWebhooks => Convert.ToBase64String(Mac(key, $"{headers.GetValueOrDefault("webhook-id")}.{headers.GetValueOrDefault("webhook-timestamp")}.", body)),
        _ => Encoding.UTF8.GetString(key),
    };

    private static Dictionary<string, string> SignedHeaders(WebhookScheme scheme, byte[] key, byte[] body)
    {
        var now = s_now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return scheme switch
        {
            WebhookScheme.GitHub => new() { ["X-Hub-Signature-256"] = "sha256=" + Convert.ToHexStringLower(Mac(key, "", body)) },
            WebhookScheme.Stripe => new() { ["Stripe-Signature"] = $"t={now},v1=" + Convert.ToHexStringLower(Mac(key, now + ".", body)) },
            WebhookScheme.StandardWebhooks => new()
            {
                ["webhook-id"] = "msg_1",
                ["webhook-timestamp"] = now,
                ["webhook-signature"] = StandardWebhooksSignature.Sign(key, "msg_1", s_now.ToUnixTimeSeconds(), body),
            },
            _ => new() { ["X-Api-Key"] = Encoding.UTF8.GetString(key) },
        };
    }

    private static string? StripeTimestamp(string? header) =>
        header?.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("t=", StringComparison.Ordinal))?[2..];

    /// <summary>An independent reading of each scheme: does the delivery carry a right signature and a fresh timestamp?</summary>
    private static bool Sound(WebhookScheme scheme, Dictionary<string, string> headers, byte[] body, List<byte[]> keys)
    {
        bool Fresh(string? seconds) =>
            long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var t) && Math.Abs((decimal)s_now.ToUnixTimeSeconds() - t) <= (decimal)s_tolerance.TotalSeconds;

        switch (scheme)
        {
            case WebhookScheme.GitHub:
                var github = headers.GetValueOrDefault("X-Hub-Signature-256");
                return keys.Any(k => string.Equals(github, "sha256=" + Convert.ToHexStringLower(Mac(k, "", body)), StringComparison.OrdinalIgnoreCase));
            case WebhookScheme.Stripe:
                var stripe = headers.GetValueOrDefault("Stripe-Signature") ?? "";
                var t = StripeTimestamp(stripe);
                var v1 = stripe.Split(',').Select(p => p.Trim()).Where(p => p.StartsWith("v1=", StringComparison.Ordinal)).Select(p => p[3..]);
                return Fresh(t) && v1.Any(s => keys.Any(k => string.Equals(s, Convert.ToHexStringLower(Mac(k, t + ".", body)), StringComparison.OrdinalIgnoreCase)));
            case WebhookScheme.StandardWebhooks:
                var timestamp = headers.GetValueOrDefault("webhook-timestamp");
                var prefix = $"{headers.GetValueOrDefault("webhook-id")}.{timestamp}.";
                var entries = (headers.GetValueOrDefault("webhook-signature") ?? "").Split(' ').Where(e => e.StartsWith("v1,", StringComparison.Ordinal));
                return Fresh(timestamp) && entries.Any(e => keys.Any(k => Decodes(e[3..], Mac(k, prefix, body))));
            default:
                var presented = headers.GetValueOrDefault("X-Api-Key")
                    ?? (headers.GetValueOrDefault("Authorization") is { } a && a.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? a[7..].Trim() : null);
                return presented is not null && keys.Any(k => Encoding.UTF8.GetBytes(presented).AsSpan().SequenceEqual(k));
        }
    }

    private static bool Decodes(string base64, byte[] mac)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var written) && buffer.AsSpan(0, written).SequenceEqual(mac);
    }
}

/// <summary>
/// A verified delivery's body through what the endpoint does after the signature: JSON parse, the
/// scheme's event type and delivery id (Stripe, Standard Webhooks), the channel template, the
/// publication's type, data and meta, and the push encoders.
/// </summary>
internal sealed class WebhookBodyTarget : IFuzzTarget
{
    private static readonly ChannelTemplate s_template = ChannelTemplate.Parse("hooks:{type}", out _)!;

    public string Name => "webhook-body";

    public string Description => "An inbound webhook's body after verification: Describe (type, id), ChannelTemplate.TryFill, TypeOf, JsonData, meta and the encoders; only documented refusals, and what is stored encodes";

    public void Run(ReadOnlySpan<byte> input)
    {
        var body = input.ToArray();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = JsonData.MaxDepth });
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            foreach (var scheme in new[] { WebhookScheme.Stripe, WebhookScheme.StandardWebhooks, WebhookScheme.GitHub })
                Deliver(scheme, document.RootElement, body);
        }
    }

    private static void Deliver(WebhookScheme scheme, JsonElement root, byte[] body)
    {
        var verified = new WebhookVerification(WebhookOutcome.Valid, string.Empty, DeliveryId: scheme == WebhookScheme.Stripe ? null : "msg_2b", EventType: scheme == WebhookScheme.GitHub ? "push" : null);
        string channel;
        try
        {
            verified = WebhookVerifiers.For(scheme).Describe(verified, root);
            if (!s_template.TryFill(root, out channel, out _))
                channel = "hooks:fixed";
        }
        catch (InvalidOperationException)
        {
            return; // Documented: 400 invalid_body (a name or string that is not valid Unicode).
        }

        if (verified.DeliveryId is { } id && !PublishService.IsValidIdempotencyKey(id))
            return; // 400 invalid_header
        var type = InboundWebhookEndpoint.TypeOf(verified.EventType);
        Check.That(PublishService.IsValidType(type), $"TypeOf gave an invalid type of {type.Length} characters.");
        if (!JsonData.TryCompact(body, out var data, out _))
            return; // 400 invalid_body

        EncoderChecks.All(new Publication
        {
            Channel = channel,
            Offset = 1,
            Epoch = "k3f9",
            Id = "0197c2f0a1b2c3d4e5f60718293a4b5c",
            Time = DateTimeOffset.UnixEpoch,
            From = InboundWebhookEndpoint.FromPrefix + "src",
            Type = type,
            Meta = InboundWebhookEndpoint.MetaOf("src", verified.DeliveryId),
            Data = data,
        });
    }
}
