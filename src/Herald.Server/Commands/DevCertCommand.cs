using System.CommandLine;
using Herald.Server.Tls;

namespace Herald.Server.Commands;

/// <summary><c>herald dev-cert --out DIR</c>: a self-signed certificate for localhost, to try HTTPS and HTTP/2 locally.</summary>
internal static class DevCertCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Directory to write cert.pem and key.pem into (default: the current directory).", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Replace cert.pem and key.pem if they exist." };
        var command = new Command("dev-cert", "Make a self-signed development certificate for localhost, 127.0.0.1 and ::1 (one year), as PEM files for 'serve --tls-cert/--tls-key'.")
        {
            output, force,
        };
        command.SetAction(async parse =>
        {
            var directory = parse.GetValue(output)!;
            foreach (var file in (string[])[DevCertificate.CertificateFile, DevCertificate.KeyFile])
            {
                var path = Path.GetFullPath(Path.Combine(directory, file));
                if (File.Exists(path) && !parse.GetValue(force))
                {
                    await Console.Error.WriteLineAsync($"herald: {path} exists; give --force to replace it.");
                    return 1;
                }
            }

            using var certificate = DevCertificate.Create(DateTimeOffset.UtcNow);
            string certificatePath, keyPath;
            try
            {
                (certificatePath, keyPath) = DevCertificate.Write(certificate, directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"herald: cannot write the certificate into {Path.GetFullPath(directory)}: {e.Message}");
                return 1;
            }

            var until = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"""
                A self-signed certificate for localhost, 127.0.0.1 and ::1, valid until {until}:
                  {certificatePath}
                  {keyPath} (the private key, readable by its owner only)
                Serve HTTPS with HTTP/2 on https://localhost:8443:
                  herald serve --tls-cert {certificatePath} --tls-key {keyPath}
                Browsers warn about it (nobody vouches for it) until you trust it; see docs/transports.md#http2-and-tls.
                """);
            return 0;
        });
        return command;
    }
}
