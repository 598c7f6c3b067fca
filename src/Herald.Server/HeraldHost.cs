using Herald.Engine;
using Herald.Http;
using Herald.Server.Web;
using Herald.Transports.Connections;
using Herald.Transports.WebSocket;
using Microsoft.Extensions.Options;

namespace Herald.Server;

/// <summary>Builds the <c>herald serve</c> web application; integration tests build it the same way.</summary>
internal static partial class HeraldHost
{
    public const string DefaultUrls = "http://localhost:8080";

    /// <param name="args">Configuration arguments (<c>--Section:Key=value</c>), passed to the host as is.</param>
    /// <param name="overrides">Settings from <c>serve</c>'s own options; they win over every other source.</param>
    /// <param name="configure">Called last before the app is built (tests add a log sink here).</param>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, bool quiet = false, Action<WebApplicationBuilder>? configure = null)
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
            builder.WebHost.UseUrls(DefaultUrls);

        // Every connection first takes a slot under Herald:Connections (file descriptors are finite:
        // docs/security.md). WebSocket connections to /v1/ws are then served below the HTTP layer (a
        // third less memory per idle socket) with Kestrel's own head and keep-alive timeouts
        // (Kestrel:Limits, bound here: the slim builder does not); every other request, and every
        // refused upgrade, takes the usual pipeline.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Herald answers a long URL itself, with a problem document (RequestTargetLimit); Kestrel's
            // own limit, which answers a bare 414, sits above it unless configured.
            kestrel.Limits.MaxRequestLineSize = RequestTargetLimit.KestrelRequestLineSize(
                builder.Configuration.GetValue("Herald:MaxRequestTargetBytes", new HeraldOptions().MaxRequestTargetBytes));
            builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            kestrel.ConfigureEndpointDefaults(listen => listen.UseHeraldConnectionLimits().UseHeraldWebSockets());
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

        if (quiet)
            builder.Logging.SetMinimumLevel(LogLevel.Warning);

        builder.Services.AddHerald(builder.Configuration).UseConfiguredStore();
        builder.Services.AddOpenApi();
        builder.Services.PostConfigure<HeraldOptions>(DataSecrets.Apply);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseHeraldRequestLimits();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();
        app.MapHerald();
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
        if (DataSecrets.GeneratedApiKey is { } generated)
        {
            var path = DataSecrets.PathIn(options.DataDirectory, DataSecrets.ApiKeyFile);
            LogGeneratedKey(logger, generated, path);
        }
        GC.KeepAlive(store);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Herald listening on {Url} (store: {Store}, data: {DataDirectory})")]
    private static partial void LogListening(ILogger logger, string url, string store, string dataDirectory);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "No API key was configured, so one was generated. It is shown only this once and saved in {Path}: {ApiKey}")]
    private static partial void LogGeneratedKey(ILogger logger, string apiKey, string path);
}
