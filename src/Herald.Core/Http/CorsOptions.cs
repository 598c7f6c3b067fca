namespace Herald.Http;

/// <summary>
/// Which other origins' pages may call the HTTP API — publish, history, Server-Sent Events,
/// streaming and polling — from a browser; bound from <c>Herald:Cors</c>. The WebSocket has its
/// own check (<c>Herald:Transports:AllowedOrigins</c>): browsers apply no CORS to it.
/// </summary>
public sealed class CorsOptions
{
    /// <summary>The longest preflight cache a browser honours (Firefox's cap; Chromium's is 2 h).</summary>
    internal static readonly TimeSpan MaxPreflightMaxAge = TimeSpan.FromDays(1);

    /// <summary>
    /// Origins (<c>scheme://host[:port]</c>, case-insensitive) whose pages may call the API; <c>*</c>
    /// allows any. Empty (the default) takes the WebSocket's list, <c>Herald:Transports:AllowedOrigins</c>,
    /// so one setting opens both; that list is empty by default too: same origin only.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// How long a browser may reuse a preflight answer (<c>Access-Control-Max-Age</c>). 10 min: a
    /// page's polls and reconnects do not preflight each time, and a changed list reaches open pages soon.
    /// </summary>
    public TimeSpan PreflightMaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The origins in force: these, else the WebSocket's, without a trailing slash.</summary>
    internal IReadOnlyList<string> EffectiveOrigins(IList<string> webSocketOrigins) =>
        [.. (AllowedOrigins.Count > 0 ? AllowedOrigins : webSocketOrigins).Select(o => o.Trim().TrimEnd('/'))];

    internal IEnumerable<string> Validate()
    {
        foreach (var origin in AllowedOrigins)
        {
            if (!IsOrigin(origin))
                yield return $"Herald:Cors:AllowedOrigins: '{origin}' is not an origin: use scheme://host[:port] (e.g. https://app.example.com), or * for any.";
        }

        if (PreflightMaxAge < TimeSpan.Zero || PreflightMaxAge > MaxPreflightMaxAge)
            yield return "Herald:Cors:PreflightMaxAge must be between 00:00:00 and 1.00:00:00.";
    }

    /// <summary><c>*</c>, or an absolute http(s) URL with nothing after the authority.</summary>
    private static bool IsOrigin(string value)
    {
        var trimmed = value.Trim().TrimEnd('/');
        if (trimmed == "*")
            return true;
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Host.Length > 0
            && uri.AbsolutePath == "/"
            && uri.Query.Length == 0
            && uri.Fragment.Length == 0
            && uri.UserInfo.Length == 0
            && !trimmed.EndsWith('?')
            && !trimmed.EndsWith('#');
    }
}
