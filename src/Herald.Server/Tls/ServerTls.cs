using Herald.Settings;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Herald.Server.Tls;

/// <summary>
/// HTTPS on Kestrel from <see cref="TlsOptions"/>. With a certificate every endpoint is TLS and
/// offers <c>h2</c> and <c>http/1.1</c> by ALPN, so browsers multiplex every EventSource, stream
/// and WebSocket (RFC 8441) of a page over one connection; without one nothing changes.
/// </summary>
internal sealed class ServerTls(IOptions<TlsOptions> options) : IDisposable
{
    /// <summary>Where <c>serve</c> listens with a certificate and no <c>urls</c>: 8443, the customary HTTPS alternate of 8080.</summary>
    public const string DefaultUrls = "https://localhost:8443";

    private readonly Lazy<ServerCertificate> certificate = new(() =>
    {
        var problems = new List<string>();
        // Checked before the host was built; a file changed since then fails the start here.
        return ServerCertificate.Load(options.Value, problems) ?? throw new InvalidOperationException(string.Join(" ", problems));
    });

    public bool IsConfigured { get; } = options.Value.IsConfigured;

    public ServerCertificate Certificate => certificate.Value;

    /// <summary>Registers <c>Herald:Tls</c> with the settings check (unknown keys, and every certificate problem at once).</summary>
    public static void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddHeraldSettings<TlsOptions>(configuration, TlsOptions.Section);
        services.AddSingleton<IValidateOptions<TlsOptions>, Validator>();
        services.AddSingleton<ServerTls>();
    }

    /// <summary>Whether the configuration names a certificate (read before the host is built, for the default address).</summary>
    public static bool IsConfiguredIn(IConfiguration configuration) =>
        new TlsOptions
        {
            CertificatePath = configuration[$"{TlsOptions.Section}:{nameof(TlsOptions.CertificatePath)}"],
            PfxPath = configuration[$"{TlsOptions.Section}:{nameof(TlsOptions.PfxPath)}"],
        }.IsConfigured;

    /// <summary>
    /// The addresses in <c>urls</c> against the certificate: an <c>https://</c> address needs one
    /// (Kestrel would otherwise look for the ASP.NET Core development certificate, which herald
    /// does not use), and with one every address is <c>https://</c> — a plain one beside it would
    /// be served with TLS all the same, so it is refused rather than silently changed.
    /// </summary>
    public static IEnumerable<string> CheckAddresses(IConfiguration configuration)
    {
        var configured = IsConfiguredIn(configuration);
        var urls = (configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in urls)
        {
            var https = url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            if (https && !configured)
                yield return $"urls: '{url}' needs a certificate: --tls-cert and --tls-key, or --tls-pfx ({TlsOptions.Section}; 'herald dev-cert' makes one for localhost).";
            else if (!https && configured)
                yield return $"urls: '{url}' is plain HTTP, but {TlsOptions.Section} configures a certificate, and with one every address serves TLS: write it as https://.";
        }
    }

    /// <summary>Makes the endpoint TLS with HTTP/1.1 and HTTP/2 when a certificate is configured; called between the connection limits and the WebSocket fast path.</summary>
    public void Apply(ListenOptions listen)
    {
        if (!IsConfigured)
            return;

        // Before UseHttps, which reads the protocols it offers by ALPN.
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = Certificate.Certificate,
            ServerCertificateChain = Certificate.Chain,
        });
    }

    public void Dispose()
    {
        if (certificate.IsValueCreated)
            certificate.Value.Dispose();
    }

    private sealed class Validator : IValidateOptions<TlsOptions>
    {
        public ValidateOptionsResult Validate(string? name, TlsOptions options)
        {
            var problems = new List<string>();
            ServerCertificate.Load(options, problems)?.Dispose();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}

/// <summary>Opts a Kestrel endpoint into <see cref="ServerTls"/>.</summary>
internal static class ServerTlsExtensions
{
    public static ListenOptions UseHeraldTls(this ListenOptions listen)
    {
        listen.ApplicationServices.GetRequiredService<ServerTls>().Apply(listen);
        return listen;
    }
}
