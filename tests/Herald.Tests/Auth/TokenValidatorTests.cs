using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Herald.Auth;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Tests.Auth;

public sealed class TokenValidatorTests
{
    private const string Secret = "a-test-secret-of-at-least-32-bytes!!";

    [Fact]
    public async Task A_valid_HS256_token_names_its_user()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var check = await validator.ValidateAsync(Mint(Hmac(Secret), "alice"));
        Assert.True(check.IsValid, check.Error);
        Assert.Equal("alice", check.User);
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var header = Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"sub":"mallory","exp":{{exp}}}"""));
        Assert.False((await validator.ValidateAsync($"{header}.{payload}.")).IsValid);
    }

    [Theory]
    [InlineData("""{"sub":"alice","exp":"1999999999"}""", "exp")]
    [InlineData("""{"sub":"alice","exp":1999999999,"nbf":"1000000000"}""", "nbf")]
    [InlineData("""{"sub":"alice","exp":1999999999,"iat":"1000000000"}""", "iat")]
    public async Task A_signed_token_whose_dates_are_not_JSON_numbers_is_refused(string claims, string claim)
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims));
        var signature = Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes($"{header}.{payload}")));
        var check = await validator.ValidateAsync($"{header}.{payload}.{signature}");
        Assert.False(check.IsValid, $"accepted {claims}");
        Assert.Contains($"'{claim}'", check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_token_with_numeric_dates_is_accepted()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString("""{"sub":"alice","exp":1999999999,"nbf":1000000000,"iat":1000000000}"""u8);
        var signature = Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes($"{header}.{payload}")));
        var check = await validator.ValidateAsync($"{header}.{payload}.{signature}");
        Assert.True(check.IsValid, check.Error);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_refused()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var check = await validator.ValidateAsync(Mint(Hmac("another-secret-of-at-least-32-bytes!"), "alice"));
        Assert.False(check.IsValid);
        Assert.Contains("signature", check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_and_not_yet_valid_tokens_are_refused_beyond_the_clock_skew()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        var now = DateTime.UtcNow;
        var expired = await validator.ValidateAsync(Mint(Hmac(Secret), "alice", notBefore: now.AddHours(-2), expires: now.AddMinutes(-5)));
        Assert.Equal("The token has expired.", expired.Error);
        var early = await validator.ValidateAsync(Mint(Hmac(Secret), "alice", notBefore: now.AddMinutes(5), expires: now.AddHours(1)));
        Assert.Equal("The token is not valid yet.", early.Error);
        var withinSkew = await validator.ValidateAsync(Mint(Hmac(Secret), "alice", notBefore: now.AddHours(-1), expires: now.AddSeconds(-10)));
        Assert.True(withinSkew.IsValid, withinSkew.Error);
    }

    [Fact]
    public async Task A_token_without_sub_or_exp_is_refused()
    {
        using var validator = Validator(o => o.HmacSecret = Secret);
        Assert.False((await validator.ValidateAsync(Mint(Hmac(Secret), sub: null))).IsValid);
        var noExp = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "alice")]),
            SigningCredentials = Hmac(Secret),
        });
        Assert.False((await validator.ValidateAsync(noExp)).IsValid);
    }

    [Fact]
    public async Task RS256_and_ES256_tokens_verify_with_the_configured_public_key_only()
    {
        using var rsa = RSA.Create(2048);
        using var otherRsa = RSA.Create(2048);
        using (var validator = Validator(o => o.PublicKeyPem = rsa.ExportSubjectPublicKeyInfoPem()))
        {
            Assert.Equal("bob", (await validator.ValidateAsync(Mint(new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256), "bob"))).User);
            Assert.False((await validator.ValidateAsync(Mint(new SigningCredentials(new RsaSecurityKey(otherRsa), SecurityAlgorithms.RsaSha256), "bob"))).IsValid);

            // The public key must not double as an HMAC secret (algorithm confusion).
            var confused = Mint(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())), SecurityAlgorithms.HmacSha256), "bob");
            Assert.False((await validator.ValidateAsync(confused)).IsValid);
        }

        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecValidator = Validator(o => o.PublicKeyPem = ec.ExportSubjectPublicKeyInfoPem());
        Assert.Equal("carol", (await ecValidator.ValidateAsync(Mint(new SigningCredentials(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256), "carol"))).User);
    }

    [Fact]
    public async Task Without_a_configured_key_tokens_are_not_accepted()
    {
        using var validator = Validator(_ => { });
        Assert.False(validator.Enabled);
        Assert.False((await validator.ValidateAsync(Mint(Hmac(Secret), "alice"))).IsValid);
    }

    private static TokenValidator Validator(Action<TokenOptions> configure)
    {
        var options = new HeraldOptions();
        configure(options.Auth);
        return new TokenValidator(Options.Create(options));
    }

    private static SigningCredentials Hmac(string secret) =>
        new(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256);

    private static string Mint(SigningCredentials credentials, string? sub, DateTime? notBefore = null, DateTime? expires = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = sub is null ? new ClaimsIdentity() : new ClaimsIdentity([new Claim("sub", sub)]),
            NotBefore = notBefore ?? now.AddMinutes(-1),
            IssuedAt = notBefore ?? now.AddMinutes(-1),
            Expires = expires ?? now.AddHours(1),
            SigningCredentials = credentials,
        });
    }
}
