using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.IntegrationTests.Transports.WebSocket;

/// <summary>Mints HS256 user tokens for a server configured with <see cref="Secret"/>.</summary>
internal static class Tokens
{
    public const string Secret = "websocket-tests-hmac-secret-0123456789abcdef";

    /// <summary>A token whose payload also holds <paramref name="claims"/> (values serialized as JSON: a dictionary becomes an object).</summary>
    public static string Mint(string user, IDictionary<string, object> claims) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", user)]),
            Claims = claims,
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
        });

    public static string Mint(string user, TimeSpan? expiresIn = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        var notBefore = expires < now ? expires - TimeSpan.FromHours(1) : now;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", user)]),
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret)), SecurityAlgorithms.HmacSha256),
        });
    }
}
