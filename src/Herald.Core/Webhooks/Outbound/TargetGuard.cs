using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// The SSRF guard. A target URL is checked when a subscription is written (scheme, no user info,
/// literal addresses), and every connection is checked again when it is made: the host name is
/// resolved by the guard itself and only public addresses are connected to, so a name that
/// resolves to 127.0.0.1 — or starts to, after the check (DNS rebinding) — is never reached.
/// Redirects are not followed and no proxy is used, so nothing else picks the address.
/// </summary>
internal static class TargetGuard
{
    /// <summary>A handler for deliveries: connect-time address check, no redirects, no proxy, no cookies.</summary>
    public static SocketsHttpHandler CreateHandler(bool allowPrivateTargets) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        // Re-resolve names every 5 minutes even on busy, kept-alive connections.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, allowPrivateTargets, cancellationToken),
    };

    /// <summary>Checks a target URL as given to the API; the normalized URL, or the error code and reason.</summary>
    public static bool TryValidateUrl(
        string? text,
        OutboundWebhookOptions options,
        [NotNullWhen(true)] out string? url,
        [NotNullWhen(false)] out string? code,
        [NotNullWhen(false)] out string? error)
    {
        url = null;
        code = "invalid_url";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "'url' is required.";
            return false;
        }

        if (text.Length > options.MaxUrlLength)
        {
            error = $"The URL is longer than {options.MaxUrlLength} characters.";
            return false;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"'{text}' is not an absolute http:// or https:// URL.";
            return false;
        }

        if (uri.UserInfo.Length > 0)
        {
            error = "The URL must not carry credentials (user:password@); authenticate the deliveries with their signature.";
            return false;
        }

        if (uri.Fragment.Length > 0)
        {
            error = "The URL must not have a #fragment; it is never sent.";
            return false;
        }

        if (uri.Host.Length == 0)
        {
            error = "The URL has no host.";
            return false;
        }

        if (!options.AllowPrivateTargets && IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && AddressRanges.Classify(literal) is { } reason)
        {
            code = "target_not_allowed";
            error = $"{literal} is {reason}: webhooks are delivered to public addresses only (Herald:Webhooks:Outbound:AllowPrivateTargets allows others, for development).";
            return false;
        }

        url = uri.AbsoluteUri;
        code = null;
        error = null;
        return true;
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowPrivateTargets, CancellationToken cancellationToken)
    {
        var host = endpoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);

        string? refused = null;
        SocketException? failure = null;
        foreach (var address in addresses)
        {
            if (!allowPrivateTargets && AddressRanges.Classify(address) is { } reason)
            {
                refused ??= $"{address} is {reason}";
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failure = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        if (failure is not null)
            throw failure;
        throw new TargetNotAllowedException(refused is null
            ? $"'{host}' resolves to no address."
            : $"'{host}' is not allowed: {refused}; webhooks are delivered to public addresses only.");
    }
}

/// <summary>The SSRF guard refused every address of a target.</summary>
internal sealed class TargetNotAllowedException : IOException
{
    public TargetNotAllowedException(string message)
        : base(message)
    {
    }

    public TargetNotAllowedException()
    {
    }

    public TargetNotAllowedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
