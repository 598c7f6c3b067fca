using Microsoft.AspNetCore.Http;

namespace Herald.Transports.WebSocket;

/// <summary>
/// Which pages may open a WebSocket: browsers send <c>Origin</c> and do not apply CORS to
/// WebSockets, so without this check any site could open one with the visitor's cookies or token.
/// </summary>
internal static class OriginPolicy
{
    /// <summary>
    /// No <c>Origin</c> (a non-browser client): allowed. Same origin (Origin host and port equal the
    /// request's <c>Host</c>): allowed. Otherwise allowed when <paramref name="allowed"/> lists the
    /// origin (scheme://host[:port], case-insensitive) or <c>*</c>.
    /// </summary>
    public static bool IsAllowed(string? origin, HttpRequest request, IList<string> allowed)
    {
        if (string.IsNullOrEmpty(origin))
            return true;

        foreach (var entry in allowed)
        {
            if (entry == "*" || string.Equals(entry.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
                return true;
        }

        return IsSameOrigin(origin, request.Host);
    }

    private static bool IsSameOrigin(string origin, HostString host)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !host.HasValue || uri.Host.Length == 0)
            return false;

        // A Host without a port means the default port of the scheme the page used (a TLS proxy in
        // front of Kestrel sees http while the page is on https).
        var hostPort = host.Port ?? uri.Port;
        return string.Equals(uri.Host.Trim('[', ']'), host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
            && uri.Port == hostPort;
    }
}
