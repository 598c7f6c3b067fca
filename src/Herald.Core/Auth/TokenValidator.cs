using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Auth;

/// <summary>The outcome of checking a user token.</summary>
public readonly record struct TokenCheck(string? User, string? Error)
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

    public TokenValidator(IOptions<HeraldOptions> options)
    {
        var auth = options.Value.Auth;
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

        return new TokenCheck(jwt.Subject, null);
    }

    public void Dispose() => publicKey?.Dispose();

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
