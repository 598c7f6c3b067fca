namespace Herald.Auth;

/// <summary>How user tokens (JWT) are checked; bound from <c>Herald:Auth</c>.</summary>
public sealed class TokenOptions
{
    /// <summary>Shared secret for HS256 tokens (at least 32 bytes of UTF-8).</summary>
    public string? HmacSecret { get; set; }

    /// <summary>PEM public key (RSA for RS256, EC P-256 for ES256) for tokens signed elsewhere.</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>Expected <c>iss</c>; not checked when empty.</summary>
    public string? Issuer { get; set; }

    /// <summary>Expected <c>aud</c>; not checked when empty.</summary>
    public string? Audience { get; set; }

    /// <summary>Tolerance on <c>exp</c>/<c>nbf</c> for clocks that drift. 30 s: small, and enough for NTP-synced hosts.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Accept server API keys in <c>?token=</c> as well as in headers. Off: a URL is written to access
    /// logs and browser history, and a key found there may publish anywhere. Turn it on only for a
    /// client that cannot send headers and whose URLs are logged nowhere.
    /// </summary>
    public bool AllowApiKeyInQuery { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(HmacSecret) || !string.IsNullOrEmpty(PublicKeyPem);

    /// <summary>Most channel patterns a token's <c>channels</c> claim may hold (a token with more is refused). 100: a user in a hundred rooms; beyond that, use namespace access levels.</summary>
    public int MaxChannelGrants { get; set; } = 100;

    /// <summary>Largest <c>info</c> claim (compact JSON bytes) a token may carry: what presence lists about the user. 1 KiB: a name, an avatar URL, a role.</summary>
    public int MaxInfoBytes { get; set; } = 1024;

    internal IEnumerable<string> Validate()
    {
        if (MaxInfoBytes is < 16 or > 64 * 1024)
            yield return "Herald:Auth:MaxInfoBytes must be from 16 to 65536.";
        if (MaxChannelGrants is < 1 or > 10_000)
            yield return "Herald:Auth:MaxChannelGrants must be from 1 to 10000.";
        if (HmacSecret is { Length: > 0 } secret && System.Text.Encoding.UTF8.GetByteCount(secret) < 32)
            yield return "Herald:Auth:HmacSecret must be at least 32 bytes (HS256 needs a 256-bit key).";
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(5))
            yield return "Herald:Auth:ClockSkew must be between 0 and 5 minutes.";
    }
}
