using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Herald.Server.Tls;

/// <summary>
/// The certificate <see cref="TlsOptions"/> names, loaded: the leaf with its private key and the
/// chain sent after it. <see cref="Load"/> reports every problem as one line naming the setting,
/// the file and what is wrong with it, so that a bad path, file or password stops the start with
/// the settings check's message and exit code (78) rather than a TLS stack trace.
/// </summary>
internal sealed class ServerCertificate : IDisposable
{
    private const string Pem = "-----BEGIN ";

    private ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        Certificate = certificate;
        Chain = chain;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates sent after the leaf (a Let's Encrypt <c>fullchain.pem</c> holds one).</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The certificate, or null with <paramref name="problems"/> saying why.</summary>
    public static ServerCertificate? Load(TlsOptions options, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(options);
        var count = problems.Count;
        var pem = !string.IsNullOrEmpty(options.CertificatePath);
        var pfx = !string.IsNullOrEmpty(options.PfxPath);
        if (pfx && (pem || !string.IsNullOrEmpty(options.KeyPath)))
            problems.Add($"{TlsOptions.Section}: give either PfxPath (--tls-pfx) or CertificatePath and KeyPath (--tls-cert, --tls-key), not both.");
        else if (!pem && !pfx && !string.IsNullOrEmpty(options.KeyPath))
            problems.Add($"{TlsOptions.Section}:KeyPath is set without {TlsOptions.Section}:CertificatePath (--tls-cert), the certificate it belongs to.");
        else if (!pem && !pfx && !string.IsNullOrEmpty(options.Password))
            problems.Add($"{TlsOptions.Section}:Password is set without a certificate (--tls-pfx, or --tls-cert and --tls-key).");
        if (problems.Count > count || (!pem && !pfx))
            return null;

        return pfx ? LoadPfx(options.PfxPath!, options.Password, problems) : LoadPem(options.CertificatePath!, options.KeyPath, options.Password, problems);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var certificate in Chain)
            certificate.Dispose();
    }

    private static ServerCertificate? LoadPem(string certificatePath, string? keyPath, string? password, List<string> problems)
    {
        var certificateText = Read("CertificatePath", certificatePath, problems);
        var keyText = string.IsNullOrEmpty(keyPath) ? certificateText : Read("KeyPath", keyPath, problems);
        if (certificateText is null || keyText is null)
            return null;

        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certificateText);
        }
        catch (CryptographicException e)
        {
            problems.Add(Problem("CertificatePath", certificatePath, $"is not a PEM certificate ({Message(e)})"));
            return null;
        }

        if (all.Count == 0)
        {
            problems.Add(Problem("CertificatePath", certificatePath, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
            return null;
        }

        var (keySetting, keyFile) = string.IsNullOrEmpty(keyPath) ? ("CertificatePath", certificatePath) : ("KeyPath", keyPath);
        if (!keyText.Contains(Pem, StringComparison.Ordinal) || !keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            problems.Add(string.IsNullOrEmpty(keyPath)
                ? Problem(keySetting, keyFile, $"holds no private key; give the certificate's key with {TlsOptions.Section}:KeyPath (--tls-key)")
                : Problem(keySetting, keyFile, "holds no PEM private key (-----BEGIN PRIVATE KEY-----)"));
            Dispose(all);
            return null;
        }

        var encrypted = keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (encrypted && string.IsNullOrEmpty(password))
        {
            problems.Add(Problem(keySetting, keyFile, $"holds an encrypted private key; give its password with {TlsOptions.Section}:Password (HERALD__TLS__PASSWORD)"));
            Dispose(all);
            return null;
        }

        try
        {
            var leaf = encrypted ? X509Certificate2.CreateFromEncryptedPem(certificateText, keyText, password) : X509Certificate2.CreateFromPem(certificateText, keyText);
            return new ServerCertificate(leaf, Rest(all, leaf));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // ArgumentException: a well-formed key of another certificate.
            problems.Add(Problem(keySetting, keyFile, encrypted
                ? $"cannot be decrypted with {TlsOptions.Section}:Password, or is not the certificate's key ({Message(e)})"
                : $"is not the private key of the certificate in {Path.GetFullPath(certificatePath)}, or is malformed ({Message(e)})"));
            Dispose(all);
            return null;
        }
    }

    private static ServerCertificate? LoadPfx(string path, string? password, List<string> problems)
    {
        if (Read("PfxPath", path, problems, text: false) is null)
            return null;
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
        }
        catch (CryptographicException e)
        {
            problems.Add(Problem("PfxPath", path, string.IsNullOrEmpty(password)
                ? $"cannot be opened: not a PFX (PKCS#12) file, or it needs a password ({TlsOptions.Section}:Password, --tls-password) ({Message(e)})"
                : $"cannot be opened with the password given in {TlsOptions.Section}:Password, or is not a PFX (PKCS#12) file ({Message(e)})"));
            return null;
        }

        var leaf = all.FirstOrDefault(c => c.HasPrivateKey);
        if (leaf is null)
        {
            problems.Add(Problem("PfxPath", path, "holds no certificate with a private key"));
            Dispose(all);
            return null;
        }

        return new ServerCertificate(leaf, Rest(all, leaf));
    }

    /// <summary>The file's text (or just whether it can be read), or null with a problem.</summary>
    private static string? Read(string setting, string path, List<string> problems, bool text = true)
    {
        try
        {
            if (!File.Exists(path))
            {
                problems.Add(Problem(setting, path, "no such file"));
                return null;
            }

            if (text)
                return File.ReadAllText(path);
            using var _ = File.OpenRead(path);
            return string.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(Problem(setting, path, $"cannot be read ({Message(e)})"));
            return null;
        }
    }

    private static X509Certificate2Collection Rest(X509Certificate2Collection all, X509Certificate2 leaf)
    {
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (certificate.Thumbprint == leaf.Thumbprint)
            {
                if (!ReferenceEquals(certificate, leaf))
                    certificate.Dispose();
                continue;
            }

            chain.Add(certificate);
        }

        return chain;
    }

    private static void Dispose(X509Certificate2Collection certificates)
    {
        foreach (var certificate in certificates)
            certificate.Dispose();
    }

    private static string Problem(string setting, string path, string what) =>
        $"{TlsOptions.Section}:{setting} = '{path}': {what}.";

    private static string Message(Exception e) => e.Message.TrimEnd('.');
}
