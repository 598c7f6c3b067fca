using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Auth;

public enum CallerKind
{
    Anonymous,

    /// <summary>Credentials were sent and did not verify: refused even where anonymous callers are allowed.</summary>
    Invalid,

    /// <summary>A server API key.</summary>
    Server,

    /// <summary>A user with a valid token.</summary>
    User,
}

/// <summary>Who is calling, as far as the request proved it.</summary>
/// <param name="Grants">A user token's <c>channels</c> claim, when it has one.</param>
/// <param name="Info">A user token's <c>info</c> claim as compact JSON (what presence shows of the user); empty when none.</param>
public readonly record struct Caller(CallerKind Kind, string? User = null, string? Error = null, ChannelGrants? Grants = null, ReadOnlyMemory<byte> Info = default)
{
    public static Caller Anonymous { get; } = new(CallerKind.Anonymous);

    public static Caller Server { get; } = new(CallerKind.Server);
}

/// <summary>
/// Identifies the caller of a request: a server API key (<c>Authorization: Bearer</c> or
/// <c>X-Api-Key</c>), or a user JWT (<c>Authorization: Bearer</c>, or <c>?token=</c> where a
/// browser API cannot set headers, as with EventSource).
/// </summary>
/// <remarks>
/// An API key in <c>?token=</c> is refused (403) unless <see cref="TokenOptions.AllowApiKeyInQuery"/>:
/// URLs are written to access logs, proxy logs and browser history, and a server key — which may
/// publish anywhere — must not end up there. A user token is short-lived and scoped to its user,
/// and EventSource cannot send it any other way, so it stays allowed.
/// </remarks>
public sealed class Authenticator(IOptions<HeraldOptions> options, TokenValidator tokens)
{
    /// <summary>The refusal of an API key sent in the query string.</summary>
    public const string ApiKeyInQueryError =
        "API keys are not accepted in the query string (URLs end up in access logs): send the key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'. ?token= is for user tokens (JWT).";

    private readonly byte[][] keys = [.. options.Value.ApiKeys.Where(k => k.Length > 0).Select(Encoding.UTF8.GetBytes)];
    private readonly bool allowApiKeyInQuery = options.Value.Auth.AllowApiKeyInQuery;

    public async ValueTask<Caller> IdentifyAsync(HttpRequest request)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var apiKey) && !string.IsNullOrEmpty(apiKey))
            return IsApiKey(apiKey.ToString()) ? Caller.Server : new Caller(CallerKind.Invalid, Error: "The API key is not valid.");

        var bearer = Bearer(request);
        var presented = bearer ?? NonEmpty(request.Query["token"]);
        if (presented is null)
            return Caller.Anonymous;
        if (IsApiKey(presented))
            return bearer is null && !allowApiKeyInQuery ? new Caller(CallerKind.Invalid, Error: ApiKeyInQueryError) : Caller.Server;
        if (!LooksLikeJwt(presented))
            return new Caller(CallerKind.Invalid, Error: "The API key is not valid.");

        var check = await tokens.ValidateAsync(presented);
        return check.IsValid ? new Caller(CallerKind.User, check.User, Grants: check.Grants, Info: check.Info) : new Caller(CallerKind.Invalid, Error: check.Error);
    }

    private bool IsApiKey(string presented)
    {
        var candidate = Encoding.UTF8.GetBytes(presented);
        var match = false;
        foreach (var key in keys)
        {
            // Compare against every key without early exit so timing reveals nothing.
            match |= CryptographicOperations.FixedTimeEquals(candidate, key);
        }

        return match;
    }

    private static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;

    private static string? Bearer(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        const string Scheme = "Bearer ";
        return authorization is not null && authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            ? NonEmpty(authorization[Scheme.Length..].Trim())
            : null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
