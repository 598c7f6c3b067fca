namespace Herald.Server.Tls;

/// <summary>
/// <c>Herald:Tls</c>: the certificate <c>herald serve</c> serves HTTPS with, as PEM files or one
/// PFX (PKCS#12) file. With one, every address in <c>urls</c> is <c>https://</c> and speaks
/// HTTP/1.1 and HTTP/2, chosen per connection by ALPN (docs/transports.md#http2-and-tls).
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Herald:Tls";

    /// <summary>A PEM certificate; any further certificates in the file (a <c>fullchain.pem</c>'s intermediates) are sent as its chain.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's PEM private key (PKCS#8, PKCS#1 or SEC1); empty when the key is in <see cref="CertificatePath"/>'s file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>A PFX (PKCS#12) file holding the certificate, its private key and optionally its chain; instead of the PEM files.</summary>
    public string? PfxPath { get; set; }

    /// <summary>The PFX file's password, or the password of an encrypted PEM key. Prefer the environment (<c>HERALD__TLS__PASSWORD</c>) to the command line, where other users can read it.</summary>
    public string? Password { get; set; }

    /// <summary>Whether a certificate is configured at all.</summary>
    public bool IsConfigured => !string.IsNullOrEmpty(CertificatePath) || !string.IsNullOrEmpty(PfxPath);
}
