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
    /// origin or <c>*</c>. Both sides are compared normalized (<see cref="Normalize"/>), so
    /// <c>https://A.example:443</c> in the list matches the <c>https://a.example</c> a browser sends.
    /// </summary>
    public static bool IsAllowed(string? origin, HttpRequest request, IList<string> allowed)
    {
        if (string.IsNullOrEmpty(origin))
            return true;

        var normalized = Normalize(origin);
        foreach (var entry in allowed)
        {
            if (entry == "*" || (normalized is not null && normalized == Normalize(entry)))
                return true;
        }

        return IsSameOrigin(origin, request.Host);
    }

    /// <summary>
    /// An origin as RFC 6454 serializes it: lower-case scheme and host (IDN in its ASCII form), the
    /// port only when it is not the scheme's default; null when it is not an http(s) origin
    /// (no path, query or user info).
    /// </summary>
    public static string? Normalize(string origin)
    {
        if (!Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.IdnHost.Length == 0 || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0
            || (uri.AbsolutePath != "/" && uri.AbsolutePath.Length > 0))
            return null;
        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost.ToLowerInvariant();
        return uri.IsDefaultPort
            ? $"{uri.Scheme}://{host}"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{uri.Scheme}://{host}:{uri.Port}");
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
