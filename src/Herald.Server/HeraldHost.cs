using Herald.Engine;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Server.Metrics;
using Herald.Server.Tls;
using Herald.Server.Web;
using Herald.Settings;
using Herald.Transports.Connections;
using Herald.Transports.WebSocket;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Herald.Server;

/// <summary>Builds the <c>herald serve</c> web application; integration tests build it the same way.</summary>
internal static partial class HeraldHost
{
    public const string DefaultUrls = "http://localhost:8080";

    /// <param name="args">Configuration arguments (<c>--Section:Key=value</c>), passed to the host as is.</param>
    /// <param name="overrides">Settings from <c>serve</c>'s own options; they win over every other source.</param>
    /// <param name="engine">Replaces the engine <c>Herald:Store</c> chose (tests run several nodes over one backplane).</param>
    /// <param name="configure">Called last before the app is built (tests add a log sink here).</param>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, bool quiet = false, Action<IHeraldBuilder>? engine = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // appsettings.json beside the binary, then one in the working directory, then the
        // environment (HERALD__STORE=memory) and the command line win, in that order.
        builder.Configuration.AddJsonFile(Path.Combine(Environment.CurrentDirectory, "appsettings.json"), optional: true);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        if (overrides is not null)
            builder.Configuration.AddInMemoryCollection(overrides);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
            builder.WebHost.UseUrls(ServerTls.IsConfiguredIn(builder.Configuration) ? ServerTls.DefaultUrls : DefaultUrls);

        // Every connection first takes a slot under Herald:Connections (file descriptors are finite:
        // docs/security.md), then its TLS handshake when Herald:Tls names a certificate (ALPN picks
        // HTTP/2 or HTTP/1.1). HTTP/1.1 WebSocket connections to /v1/ws are then served below the HTTP
        // layer (a third less memory per idle socket) with Kestrel's own head and keep-alive timeouts
        // (Kestrel:Limits, bound here: the slim builder does not); every other request, HTTP/2 ones
        // (WebSocket by extended CONNECT among them), and every refused upgrade, takes the usual pipeline.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Herald answers a long URL itself, with a problem document (RequestTargetLimit); Kestrel's
            // own limit, which answers a bare 414, sits above it unless configured.
            kestrel.Limits.MaxRequestLineSize = RequestTargetLimit.KestrelRequestLineSize(
                builder.Configuration.GetValue("Herald:MaxRequestTargetBytes", new HeraldOptions().MaxRequestTargetBytes));
            builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            kestrel.ConfigureEndpointDefaults(listen => listen.UseHeraldConnectionLimits().UseHeraldTls().UseHeraldWebSockets());
        });

        // The console provider with its formatter chosen by configuration
        // (Logging:Console:FormatterName = simple | json | systemd).
        builder.Logging.ClearProviders();
        var formatter = builder.Configuration["Logging:Console:FormatterName"];
        builder.Logging.AddConsole(console =>
        {
            if (!string.IsNullOrEmpty(formatter))
                console.FormatterName = formatter;
        });

        UtcTimestamps<SimpleConsoleFormatterOptions>(builder, "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ");
        UtcTimestamps<JsonConsoleFormatterOptions>(builder, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

        // A host that fails to start logs the exception with its stack trace before throwing it;
        // serve reports it once, as one line, instead. Critical still passes: a background
        // service that fails later and stops the host is logged, trace included.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        if (quiet)
            builder.Logging.SetMinimumLevel(LogLevel.Warning);

        var herald = builder.Services.AddHerald(builder.Configuration).UseConfiguredStore();
        ServerTls.AddServices(builder.Services, builder.Configuration);
        engine?.Invoke(herald);
        builder.Services.AddOpenApi(openApi => openApi.AddHerald());
        builder.AddHeraldMetrics();
        builder.Services.PostConfigure<HeraldOptions>(DataSecrets.Apply);
        // The host's drain on SIGTERM (docs/protocol.md#shutdown) is bounded by Herald's setting. Read
        // from the raw value: the host resolves HostOptions while it is built, before the settings
        // check can report a Herald section that does not bind (a bad value is reported there).
        var configuration = builder.Configuration;
        builder.Services.AddOptions<HostOptions>().Configure(host =>
            host.ShutdownTimeout = TimeSpan.TryParse(configuration[$"{HeraldOptions.Section}:{nameof(HeraldOptions.ShutdownTimeout)}"], System.Globalization.CultureInfo.InvariantCulture, out var timeout)
                ? timeout
                : new HeraldOptions().ShutdownTimeout);

        configure?.Invoke(builder);

        var app = builder.Build();
        try
        {
            List<string> problems = [.. SettingsCheck.Run(app.Configuration, app.Services), .. ServerTls.CheckAddresses(app.Configuration)];
            if (problems.Count > 0)
                throw new InvalidSettingsException(problems);
        }
        catch (InvalidSettingsException)
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        app.UseHeraldRequestLimits();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHeraldCors();
        app.MapOpenApi();
        app.MapHerald();
        app.MapHeraldMetrics();
        app.MapWebPages();
        app.Lifetime.ApplicationStarted.Register(() => Started(app));
        return app;
    }

    /// <summary>The same configuration sources as <c>serve</c>, for CLI commands that read settings.</summary>
    public static IConfiguration BuildConfiguration(string[] args) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(Environment.CurrentDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();

    private static void Started(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<HeraldOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Herald");
        var store = app.Services.GetRequiredService<IChannelLog>();
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        foreach (var url in app.Urls)
            LogListening(logger, url, options.Store, dataDirectory);
        if (app.Services.GetRequiredService<ServerTls>() is { IsConfigured: true } tls)
        {
            var certificate = tls.Certificate.Certificate;
            var (subject, notBefore, notAfter, chain) = (certificate.Subject, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(), tls.Certificate.Chain.Count);
            LogTls(logger, subject, notAfter, chain);
            // Kestrel serves an expired certificate all the same; every client refuses it.
            var now = DateTime.UtcNow;
            if (now > notAfter || now < notBefore)
                LogCertificateNotValid(logger, subject, notBefore, notAfter);
        }

        if (DataSecrets.GeneratedApiKey is { } generated)
        {
            var path = DataSecrets.PathIn(options.DataDirectory, DataSecrets.ApiKeyFile);
            LogGeneratedKey(logger, path);
            ShowOnTerminal(generated, path);
        }
        // Several nodes must agree on keys and token secrets; each would otherwise make its own.
        if (string.Equals(options.Store, "redis", StringComparison.OrdinalIgnoreCase) && DataSecrets.SecretsFromDataDirectory)
            LogSecretsPerNode(logger, dataDirectory);
        GC.KeepAlive(store);
    }

    /// <summary>
    /// The generated key is shown to a person at a terminal, once, and never written to the log:
    /// logs are kept, shipped and indexed (journald, a container's log driver, a JSON pipeline),
    /// and a key there is a key leaked. Without a terminal the log says where the file is.
    /// </summary>
    private static void ShowOnTerminal(string apiKey, string path)
    {
        var terminal = !Console.IsErrorRedirected ? Console.Error : !Console.IsOutputRedirected ? Console.Out : null;
        terminal?.WriteLine($"API key (shown only this once; also in {path}): {apiKey}");
    }

    /// <summary>
    /// ISO 8601 UTC timestamps on every console line, to the millisecond, unless
    /// <c>Logging:Console:FormatterOptions</c> sets its own: without them a log read later (or
    /// next to a proxy's) cannot be put in order. The systemd formatter is left alone: journald
    /// stamps each line itself.
    /// </summary>
    private static void UtcTimestamps<T>(WebApplicationBuilder builder, string format)
        where T : ConsoleFormatterOptions
    {
        var configured = builder.Configuration.GetSection("Logging:Console:FormatterOptions");
        builder.Services.PostConfigure<T>(options =>
        {
            if (configured[nameof(ConsoleFormatterOptions.TimestampFormat)] is null)
                options.TimestampFormat = format;
            if (configured[nameof(ConsoleFormatterOptions.UseUtcTimestamp)] is null)
                options.UseUtcTimestamp = true;
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Herald listening on {Url} (store: {Store}, data: {DataDirectory})")]
    private static partial void LogListening(ILogger logger, string url, string store, string dataDirectory);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "No API key was configured, so one was generated and saved in {Path} (readable by its owner only); the herald CLI on this machine finds it there")]
    private static partial void LogGeneratedKey(ILogger logger, string path);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The store is Redis, for several nodes, but this node's API key or user-token secret comes from its own data directory ({DataDirectory}): other nodes will refuse what it accepts. Set Herald:ApiKeys and Herald:Auth:HmacSecret (or a public key) to the same values on every node (docs/scaling.md).")]
    private static partial void LogSecretsPerNode(ILogger logger, string dataDirectory);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "TLS: HTTP/1.1 and HTTP/2 (ALPN) with certificate {Subject}, valid until {NotAfter:u}, {ChainLength} chain certificate(s)")]
    private static partial void LogTls(ILogger logger, string subject, DateTime notAfter, int chainLength);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The TLS certificate {Subject} is not valid now (valid from {NotBefore:u} to {NotAfter:u}): clients will refuse it")]
    private static partial void LogCertificateNotValid(ILogger logger, string subject, DateTime notBefore, DateTime notAfter);
}
