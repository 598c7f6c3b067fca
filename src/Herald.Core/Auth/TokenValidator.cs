using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Auth;

/// <summary>The outcome of checking a user token.</summary>
public readonly record struct TokenCheck(string? User, string? Error, ChannelGrants? Grants = null, ReadOnlyMemory<byte> Info = default)
{
    public bool IsValid => User is not null;
}

/// <summary>
/// Validates user JWTs: HS256 with the configured secret, RS256/ES256 with the configured public
/// key. <c>alg: none</c>, other algorithms, wrong keys, expired and not-yet-valid tokens are refused;
/// <c>sub</c> names the user and is required.
/// </summary>
public sealed class TokenValidator : IDisposable
{
    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? parameters;
    private readonly AsymmetricAlgorithm? publicKey;
    private readonly int maxGrants;
    private readonly int maxInfoBytes;

    public TokenValidator(IOptions<HeraldOptions> options)
    {
        var auth = options.Value.Auth;
        maxGrants = auth.MaxChannelGrants;
        maxInfoBytes = auth.MaxInfoBytes;
        if (!auth.Enabled)
            return;

        var keys = new List<SecurityKey>();
        var algorithms = new List<string>();
        if (!string.IsNullOrEmpty(auth.HmacSecret))
        {
            keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.HmacSecret)));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }

        if (!string.IsNullOrEmpty(auth.PublicKeyPem))
        {
            (publicKey, var key, var algorithm) = ImportPublicKey(auth.PublicKeyPem);
            keys.Add(key);
            algorithms.Add(algorithm);
        }

        parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = algorithms,
            ValidateIssuer = !string.IsNullOrEmpty(auth.Issuer),
            ValidIssuer = auth.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(auth.Audience),
            ValidAudience = auth.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = auth.ClockSkew,
        };
    }

    public bool Enabled => parameters is not null;

    public async ValueTask<TokenCheck> ValidateAsync(string token)
    {
        if (parameters is null)
            return new TokenCheck(null, "User tokens are not enabled on this server (Herald:Auth).");

        var result = await handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
            return new TokenCheck(null, Describe(result.Exception));

        if (result.SecurityToken is not JsonWebToken jwt || string.IsNullOrEmpty(jwt.Subject))
            return new TokenCheck(null, "The token has no 'sub' claim.");

        if (NonNumericDate(jwt.EncodedPayload) is { } claim)
            return new TokenCheck(null, $"The token's '{claim}' claim is not a NumericDate (RFC 7519 §2: a JSON number of seconds, not a string).");

        var payload = Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload);
        if (!ChannelGrants.TryRead(payload, maxGrants, out var grants, out var grantsError))
            return new TokenCheck(null, grantsError);
        if (!TryReadInfo(payload, maxInfoBytes, out var info, out var infoError))
            return new TokenCheck(null, infoError);

        return new TokenCheck(jwt.Subject, null, grants, info);
    }

    public void Dispose() => publicKey?.Dispose();

    /// <summary>The <c>info</c> claim as compact JSON (empty when absent); false when it is larger than <paramref name="max"/>.</summary>
    internal static bool TryReadInfo(byte[] payload, int max, out ReadOnlyMemory<byte> info, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        info = default;
        error = null;
        var reader = new System.Text.Json.Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            return true;
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            var isInfo = reader.ValueTextEquals("info"u8);
            reader.Read();
            if (!isInfo)
            {
                reader.Skip();
                continue;
            }

            using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
                document.RootElement.WriteTo(writer);
            var compact = buffer.WrittenSpan.ToArray();
            if (compact.Length > max)
            {
                error = $"The token's 'info' claim is {compact.Length} bytes of JSON; at most {max} are accepted (Herald:Auth:MaxInfoBytes).";
                return false;
            }

            info = compact;
            return true;
        }

        return true;
    }

    /// <summary>
    /// The first of <c>exp</c>, <c>nbf</c>, <c>iat</c> that is present and not a JSON number; null when
    /// all are numbers. The handler converts <c>"exp":"1999999999"</c> like a number, and a token
    /// minted that way by a buggy or hostile issuer would otherwise pass.
    /// </summary>
    internal static string? NonNumericDate(string encodedPayload)
    {
        var payload = Base64UrlEncoder.DecodeBytes(encodedPayload);
        var reader = new System.Text.Json.Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            return "exp";
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            var name = reader.ValueTextEquals("exp"u8) ? "exp" : reader.ValueTextEquals("nbf"u8) ? "nbf" : reader.ValueTextEquals("iat"u8) ? "iat" : null;
            reader.Read();
            if (name is not null && reader.TokenType != System.Text.Json.JsonTokenType.Number)
                return name;
            reader.Skip();
        }

        return null;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenNoExpirationException => "The token has no 'exp' claim.",
        SecurityTokenInvalidAlgorithmException => "The token's algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature does not verify.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "The token's audience is not accepted.",
        SecurityTokenMalformedException => "The token is malformed.",
        _ => "The token is not valid.",
    };

    private static (AsymmetricAlgorithm Owner, SecurityKey Key, string Algorithm) ImportPublicKey(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return (rsa, new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }

        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return (ec, new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            throw new InvalidOperationException("Herald:Auth:PublicKeyPem is neither an RSA nor an EC public key in PEM form.", e);
        }
    }
}
