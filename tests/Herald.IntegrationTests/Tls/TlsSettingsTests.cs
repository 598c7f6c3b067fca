using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Herald.Server;
using Herald.Server.Tls;
using Herald.Settings;

namespace Herald.IntegrationTests.Tls;

/// <summary>
/// A certificate that cannot be served stops the start as every invalid setting does: one line
/// naming the setting, the file and what is wrong, and exit code 78, before anything is written.
/// </summary>
public sealed class TlsSettingsTests : IDisposable
{
    private const int InvalidSettings = 78;

    private readonly TlsFiles tls = TlsFiles.Create();

    public void Dispose() => tls.Dispose();

    [Fact]
    public void A_missing_certificate_file_is_named_with_its_setting()
    {
        var missing = Path.Combine(tls.Directory, "nope.pem");
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:CertificatePath"] = missing, ["Herald:Tls:KeyPath"] = tls.KeyPath }));
        Assert.Equal($"Herald:Tls:CertificatePath = '{missing}': no such file.", problem);
    }

    [Fact]
    public void A_file_that_is_not_a_certificate_is_refused()
    {
        var garbage = Write("garbage.pem", "not a certificate\n");
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:CertificatePath"] = garbage, ["Herald:Tls:KeyPath"] = tls.KeyPath }));
        Assert.Contains("holds no PEM certificate", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_of_another_certificate_is_refused()
    {
        using var other = DevCertificate.Create(DateTimeOffset.UtcNow);
        using var otherKey = other.GetECDsaPrivateKey()!;
        var key = Write("other-key.pem", otherKey.ExportPkcs8PrivateKeyPem());
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:CertificatePath"] = tls.CertificatePath, ["Herald:Tls:KeyPath"] = key }));
        Assert.StartsWith($"Herald:Tls:KeyPath = '{key}': is not the private key of the certificate", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_without_its_key_asks_for_KeyPath()
    {
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:CertificatePath"] = tls.CertificatePath }));
        Assert.Contains("holds no private key; give the certificate's key with Herald:Tls:KeyPath (--tls-key)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pfx_with_the_wrong_password_is_refused_and_with_the_right_one_it_loads()
    {
        var pfx = Write("server.pfx", tls.Certificate.Export(X509ContentType.Pfx, "right"));
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:PfxPath"] = pfx, ["Herald:Tls:Password"] = "wrong" }));
        Assert.StartsWith($"Herald:Tls:PfxPath = '{pfx}': cannot be opened with the password given in Herald:Tls:Password", problem, StringComparison.Ordinal);

        Assert.Empty(Problems(new() { ["Herald:Tls:PfxPath"] = pfx, ["Herald:Tls:Password"] = "right" }));
    }

    [Fact]
    public void An_encrypted_pem_key_needs_its_password()
    {
        using var key = tls.Certificate.GetECDsaPrivateKey()!;
        var encrypted = Write("encrypted-key.pem", key.ExportEncryptedPkcs8PrivateKeyPem("secret", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)));
        var settings = new Dictionary<string, string?> { ["Herald:Tls:CertificatePath"] = tls.CertificatePath, ["Herald:Tls:KeyPath"] = encrypted };

        Assert.Contains("holds an encrypted private key; give its password", Assert.Single(Problems(settings)), StringComparison.Ordinal);
        settings["Herald:Tls:Password"] = "wrong";
        Assert.Contains("cannot be decrypted with Herald:Tls:Password", Assert.Single(Problems(settings)), StringComparison.Ordinal);
        settings["Herald:Tls:Password"] = "secret";
        Assert.Empty(Problems(settings));
    }

    [Fact]
    public void A_pem_file_holding_a_chain_sends_the_rest_as_the_chain()
    {
        using var intermediate = DevCertificate.Create(DateTimeOffset.UtcNow);
        var chain = Write("fullchain.pem", File.ReadAllText(tls.CertificatePath) + intermediate.ExportCertificatePem() + "\n");
        var problems = new List<string>();
        using var loaded = ServerCertificate.Load(new TlsOptions { CertificatePath = chain, KeyPath = tls.KeyPath }, problems);
        Assert.Empty(problems);
        Assert.Equal(tls.Certificate.Thumbprint, loaded!.Certificate.Thumbprint);
        Assert.Equal(intermediate.Thumbprint, Assert.Single(loaded.Chain).Thumbprint);
    }

    [Fact]
    public void Pfx_and_pem_together_are_refused()
    {
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:PfxPath"] = tls.CertificatePath, ["Herald:Tls:CertificatePath"] = tls.CertificatePath, ["Herald:Tls:KeyPath"] = tls.KeyPath }));
        Assert.Contains("give either PfxPath (--tls-pfx) or CertificatePath and KeyPath", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_https_address_without_a_certificate_and_a_plain_one_with_a_certificate_are_refused()
    {
        var withoutCertificate = Assert.Single(Problems(new() { ["urls"] = "https://127.0.0.1:0" }, tlsDefaults: false));
        Assert.Contains("urls: 'https://127.0.0.1:0' needs a certificate: --tls-cert and --tls-key, or --tls-pfx", withoutCertificate, StringComparison.Ordinal);

        var plain = Assert.Single(Problems(new() { ["urls"] = "https://127.0.0.1:0;http://127.0.0.1:0", ["Herald:Tls:CertificatePath"] = tls.CertificatePath, ["Herald:Tls:KeyPath"] = tls.KeyPath }));
        Assert.Contains("urls: 'http://127.0.0.1:0' is plain HTTP, but Herald:Tls configures a certificate", plain, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelled_tls_setting_is_reported_with_the_key_it_resembles()
    {
        var problem = Assert.Single(Problems(new() { ["Herald:Tls:CertificatPath"] = tls.CertificatePath }, tlsDefaults: false));
        Assert.Contains("did you mean Herald:Tls:CertificatePath?", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_a_wrong_pfx_password_exits_78_with_one_line_and_no_stack_trace()
    {
        var pfx = Write("server.pfx", tls.Certificate.Export(X509ContentType.Pfx, "right"));
        var data = TempDirectory.Create();
        try
        {
            var (exitCode, output) = await RunAsync("serve", "--urls", "https://127.0.0.1:0", "--data", data, "--store", "memory", "--tls-pfx", pfx, "--tls-password", "wrong");
            Assert.Equal(InvalidSettings, exitCode);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Single(lines, l => l.StartsWith($"herald: Herald:Tls:PfxPath = '{pfx}': cannot be opened with the password", StringComparison.Ordinal));
            Assert.Contains("herald: the server did not start.", lines);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "api-key")), "serve wrote its data directory despite invalid settings");
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    [Fact]
    public async Task Dev_cert_writes_a_certificate_serve_uses_for_http2_and_does_not_overwrite_it_without_force()
    {
        var directory = Path.Combine(tls.Directory, "dev");
        var (exitCode, output) = await RunAsync("dev-cert", "--out", directory);
        Assert.True(exitCode == 0, output);
        var certificatePath = Path.Combine(directory, DevCertificate.CertificateFile);
        var keyPath = Path.Combine(directory, DevCertificate.KeyFile);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));

        using (var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath))
        {
            var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Equal(["localhost"], names.EnumerateDnsNames());
            Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
            Assert.InRange(certificate.NotAfter - certificate.NotBefore, TimeSpan.FromDays(365), TimeSpan.FromDays(366));
            Assert.Contains(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        }

        var (again, refused) = await RunAsync("dev-cert", "--out", directory);
        Assert.Equal(1, again);
        Assert.Contains("exists; give --force to replace it", refused, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("dev-cert", "--out", directory, "--force")).ExitCode);

        var data = TempDirectory.Create();
        try
        {
            var start = new ProcessStartInfo("dotnet");
            foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "herald.dll"), "serve", "--urls", "https://127.0.0.1:0", "--data", data, "--store", "memory", "--tls-cert", certificatePath, "--tls-key", keyPath])
                start.ArgumentList.Add(arg);
            await using var server = await HeraldProcess.StartAsync(start);
            Assert.Equal("https", server.BaseAddress.Scheme);

            using var trusted = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
            using var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == trusted.GetCertHashString();
            using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
            await server.WaitForOutputAsync("TLS: HTTP/1.1 and HTTP/2 (ALPN) with certificate CN=localhost");
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    /// <summary>The settings check's lines for a host built with <paramref name="settings"/> (over a certificate-less https address unless given).</summary>
    private static IReadOnlyList<string> Problems(Dictionary<string, string?> settings, bool tlsDefaults = true)
    {
        var data = TempDirectory.Create();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = tlsDefaults ? "https://127.0.0.1:0" : "http://127.0.0.1:0",
            ["Herald:Store"] = "memory",
            ["Herald:DataDirectory"] = data,
        };
        foreach (var (key, value) in settings)
            overrides[key] = value;
        try
        {
            var app = HeraldHost.Build([], overrides, quiet: true);
            ((IDisposable)app).Dispose();
            return [];
        }
        catch (InvalidSettingsException e)
        {
            return e.Problems;
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(tls.Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(tls.Directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var (exitCode, output, error) = await CliTests.RunCliAsync(args);
        return (exitCode, output + error);
    }
}
