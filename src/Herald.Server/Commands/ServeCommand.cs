using System.CommandLine;
using Herald.Server.Tls;
using Herald.Settings;
using Microsoft.Extensions.Options;

namespace Herald.Server.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on, ';'-separated (default {HeraldHost.DefaultUrls}; with a certificate {ServerTls.DefaultUrls}, and every address https://)." };
        var data = new Option<string?>("--data") { Description = "Data directory for the SQLite store and the generated API key (default ./herald-data)." };
        var store = new Option<string?>("--store") { Description = "Channel store: sqlite (default, durable, one node), redis (several nodes) or memory." };
        store.AcceptOnlyFromAmong("sqlite", "memory", "redis");
        var redis = new Option<string?>("--redis") { Description = "With --store redis: the Redis configuration string (default localhost:6379; Herald:Redis:Configuration)." };

        var tlsCert = new Option<string?>("--tls-cert") { Description = "Serve HTTPS (HTTP/1.1 and HTTP/2) with this PEM certificate (Herald:Tls:CertificatePath); 'herald dev-cert' makes one." };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The PEM private key of --tls-cert (Herald:Tls:KeyPath)." };
        var tlsPfx = new Option<string?>("--tls-pfx") { Description = "Serve HTTPS with the certificate and key of this PFX/PKCS#12 file instead (Herald:Tls:PfxPath)." };
        var tlsPassword = new Option<string?>("--tls-password") { Description = "The PFX's (or an encrypted PEM key's) password (Herald:Tls:Password; HERALD__TLS__PASSWORD keeps it out of the process list)." };

        var command = new Command("serve", "Run the Herald server. Any setting can also be given as --Section:Key=value, HERALD__KEY environment variables or appsettings.json.")
        {
            urls, data, store, redis, tlsCert, tlsKey, tlsPfx, tlsPassword,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (parse.GetValue(urls) is { } u)
                overrides["urls"] = u;
            if (parse.GetValue(data) is { } d)
                overrides["Herald:DataDirectory"] = d;
            if (parse.GetValue(store) is { } s)
                overrides["Herald:Store"] = s;
            if (parse.GetValue(redis) is { } r)
                overrides["Herald:Redis:Configuration"] = r;
            foreach (var (option, key) in (ReadOnlySpan<(Option<string?>, string)>)[(tlsCert, nameof(TlsOptions.CertificatePath)), (tlsKey, nameof(TlsOptions.KeyPath)), (tlsPfx, nameof(TlsOptions.PfxPath)), (tlsPassword, nameof(TlsOptions.Password))])
            {
                if (parse.GetValue(option) is { } value)
                    overrides[$"{TlsOptions.Section}:{key}"] = value;
            }

            WebApplication app;
            try
            {
                app = HeraldHost.Build([.. DefaultEnvironment(parse.UnmatchedTokens), .. parse.UnmatchedTokens], overrides);
            }
            catch (InvalidSettingsException e)
            {
                return StartFailure.Report(e.Problems, InvalidSettingsExitCode);
            }

            await using (app)
            {
                try
                {
                    await app.StartAsync(cancellationToken);
                }
                catch (OptionsValidationException e)
                {
                    return StartFailure.Report([.. e.Failures], InvalidSettingsExitCode);
                }
                catch (Exception e) when (StartFailure.IsExpected(e))
                {
                    return StartFailure.Report([StartFailure.Describe(e)], exitCode: 1);
                }

                await app.WaitForShutdownAsync(cancellationToken);
            }

            return 0;
        });
        return command;
    }

    /// <summary>78 (EX_CONFIG of sysexits.h): a systemd unit's <c>RestartPreventExitStatus=78</c> stops retrying a start that cannot succeed until the settings change.</summary>
    public const int InvalidSettingsExitCode = 78;

    /// <summary>
    /// <c>dotnet run</c> builds Debug: run from the source tree, serve uses the demo's Development
    /// settings unless <c>DOTNET_ENVIRONMENT</c>, <c>ASPNETCORE_ENVIRONMENT</c> or
    /// <c>--environment</c> says otherwise. This replaces a launch profile, whose "Using launch
    /// settings from …" line <c>dotnet run</c> prints on stdout, ahead of the (JSON) logs. Every
    /// shipped build (pack, publish, release.sh) is Release, and so Production by default.
    /// </summary>
    private static string[] DefaultEnvironment(IReadOnlyList<string> tokens)
    {
#if DEBUG
        if (Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is null
            && Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is null
            && !tokens.Any(t => t.StartsWith("--environment", StringComparison.OrdinalIgnoreCase)))
        {
            return ["--environment=Development"];
        }
#endif
        _ = tokens;
        return [];
    }
}
