using System.CommandLine;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Commands;

/// <summary><c>herald token --sub alice</c>: mints a development user token (HS256) from the configured secret.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var sub = new Option<string>("--sub") { Description = "The user id (the token's 'sub').", Required = true };
        var ttl = new Option<TimeSpan>("--ttl") { Description = "How long the token is valid (e.g. 01:00:00).", DefaultValueFactory = _ => TimeSpan.FromHours(1) };
        var data = new Option<string?>("--data") { Description = "Data directory of 'herald serve' (its generated token-secret is used when Herald:Auth:HmacSecret is not set)." };
        var command = new Command("token", "Mint a development user token (JWT, HS256) signed with Herald:Auth:HmacSecret or the server's generated secret.") { sub, ttl, data };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async parse =>
        {
            var configuration = HeraldHost.BuildConfiguration([.. parse.UnmatchedTokens]);
            var options = new HeraldOptions();
            configuration.GetSection(HeraldOptions.Section).Bind(options);
            var dataDirectory = parse.GetValue(data) ?? options.DataDirectory;
            var secret = options.Auth.HmacSecret ?? DataSecrets.TryRead(DataSecrets.PathIn(dataDirectory, DataSecrets.TokenSecretFile));
            if (string.IsNullOrEmpty(secret))
            {
                await Console.Error.WriteLineAsync($"No secret: set Herald:Auth:HmacSecret, or run 'herald serve' once with --data {dataDirectory} to generate one.");
                return 2;
            }

            var now = DateTime.UtcNow;
            var descriptor = new SecurityTokenDescriptor
            {
                Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", parse.GetValue(sub)!)]),
                IssuedAt = now,
                NotBefore = now,
                Expires = now + parse.GetValue(ttl),
                Issuer = string.IsNullOrEmpty(options.Auth.Issuer) ? null : options.Auth.Issuer,
                Audience = string.IsNullOrEmpty(options.Auth.Audience) ? null : options.Auth.Audience,
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
            };
            await Console.Out.WriteLineAsync(new JsonWebTokenHandler().CreateToken(descriptor));
            return 0;
        });
        return command;
    }
}
