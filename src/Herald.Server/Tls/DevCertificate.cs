using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Herald.Server.Tls;

/// <summary>
/// A self-signed certificate for local development (<c>herald dev-cert</c>): <c>CN=localhost</c>
/// with the names a local client dials (localhost, 127.0.0.1, ::1), for server authentication only.
/// </summary>
internal static class DevCertificate
{
    public const string CertificateFile = "cert.pem";
    public const string KeyFile = "key.pem";

    /// <summary>One year: long enough not to expire under a development setup, short as CA/Browser Forum rules go (398 days at most).</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(365);

    /// <summary>The certificate with its private key. ECDSA P-256: every TLS client takes it, and it is made in a millisecond where RSA 2048 takes a hundred.</summary>
    public static X509Certificate2 Create(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build(critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        // Five minutes back: a client whose clock is a little behind must not see it as not yet valid.
        return request.CreateSelfSigned(now.AddMinutes(-5), now + Validity);
    }

    /// <summary>Writes the certificate and its PKCS#8 key as PEM into <paramref name="directory"/>; the key readable by its owner only.</summary>
    public static (string CertificatePath, string KeyPath) Write(X509Certificate2 certificate, string directory)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Directory.CreateDirectory(directory);
        var certificatePath = Path.GetFullPath(Path.Combine(directory, CertificateFile));
        var keyPath = Path.GetFullPath(Path.Combine(directory, KeyFile));
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The certificate has no ECDSA private key.");
        WriteFile(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteFile(certificatePath, certificate.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return (certificatePath, keyPath);
    }

    private static void WriteFile(string path, string pem, UnixFileMode mode)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = mode;
        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(pem);
        writer.Write('\n');
    }
}
