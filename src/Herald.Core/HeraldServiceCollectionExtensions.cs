using Herald.Auth;
using Herald.Engine;
using Herald.Hub;
using Herald.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald;

public static class HeraldServiceCollectionExtensions
{
    /// <summary>
    /// Registers Herald's core: options bound from the <c>Herald</c> section (validated on start),
    /// the node (broker → sequencer → hub and held polls), the publish service, the transports and
    /// the HTTP API's services. Choose the engine on the returned builder:
    /// <code>services.AddHerald(configuration).UseSqlite();</code>
    /// </summary>
    public static IHeraldBuilder AddHerald(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHeraldSettings<HeraldOptions>(configuration, HeraldOptions.Section);
        services.AddSingleton<IValidateOptions<HeraldOptions>, HeraldOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(HeraldEngineExtensions.CreateEngine);
        services.AddSingleton(sp => sp.GetRequiredService<HeraldEngine>().Log);
        services.AddSingleton(sp => sp.GetRequiredService<HeraldEngine>().Broker);
        services.AddSingleton(sp => new ChannelHub(sp.GetService<ILogger<ChannelHub>>()));
        services.AddSingleton<PollWaiters>();
        services.AddSingleton<PollCounters>();
        services.AddSingleton(sp =>
        {
            var transports = sp.GetRequiredService<IOptions<HeraldOptions>>().Value.Transports;
            return new SummaryHub(() => transports.SummaryInterval, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => new Node(
            sp.GetRequiredService<IChannelLog>(),
            sp.GetRequiredService<IBroker>(),
            sp.GetRequiredService<ChannelHub>(),
            sp.GetRequiredService<PollWaiters>(),
            sp.GetRequiredService<IOptions<HeraldOptions>>().Value.Node,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Node>>())
        {
            Summaries = sp.GetRequiredService<SummaryHub>(),
        });
        // First of Herald's hosted services: the engine opens (or fails with a clear message) and
        // the node starts following the broker before anything else runs.
        services.AddHostedService<NodeStartup>();
        services.AddSingleton<UserCommands>();

        services.AddSingleton(CreatePresenceStore);
        services.AddSingleton(sp => new Presence.PresenceService(
            sp.GetRequiredService<Presence.IPresenceStore>(),
            sp.GetRequiredService<ChannelHub>(),
            sp.GetRequiredService<IOptions<HeraldOptions>>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<Presence.PresenceService>>())
        {
            Polls = sp.GetRequiredService<PollWaiters>(),
            Observer = sp.GetRequiredService<Webhooks.Outbound.PresenceWebhooks>(),
        });
        services.AddSingleton(sp => new Typing.TypingService(
            sp.GetRequiredService<HeraldEngine>().Broker,
            sp.GetRequiredService<ChannelHub>(),
            sp.GetRequiredService<IOptions<HeraldOptions>>(),
            sp.GetService<TimeProvider>())
        {
            Polls = sp.GetRequiredService<PollWaiters>(),
        });
        services.AddSingleton(sp => sp.GetRequiredService<HeraldEngine>().ReadState ?? new Reading.MemoryReadStateStore());
        services.AddSingleton(sp => new Reading.ReadSync(
            sp.GetRequiredService<IChannelLog>(), sp.GetRequiredService<IOptions<HeraldOptions>>(), sp.GetService<TimeProvider>(), sp.GetService<ILogger<Reading.ReadSync>>()));
        services.AddSingleton(sp => new Receipts.ReceiptService(
            sp.GetRequiredService<HeraldEngine>().Broker,
            sp.GetRequiredService<ChannelHub>(),
            sp.GetRequiredService<Reading.IReadStateStore>(),
            sp.GetRequiredService<IOptions<HeraldOptions>>(),
            sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new Reading.UnreadService(
            sp.GetRequiredService<IChannelLog>(),
            sp.GetRequiredService<Reading.IReadStateStore>(),
            sp.GetRequiredService<IOptions<HeraldOptions>>(),
            sp.GetRequiredService<Reading.ReadSync>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<Reading.UnreadService>>(),
            sp.GetRequiredService<Receipts.ReceiptService>()));
        services.AddSingleton<Publishing.PublishService>();
        services.AddSingleton<Publishing.SignalService>();
        services.AddSingleton(sp => new Publishing.SignalRateLimiter(sp.GetService<TimeProvider>()));
        services.AddSingleton<TokenValidator>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<Transports.ConnectionRegistry>();
        services.AddSingleton<Transports.Connections.ConnectionLimiter>();
        services.AddHostedService(sp => sp.GetRequiredService<Transports.ConnectionRegistry>());
        services.AddHostedService<Transports.UserControl>();
        Transports.WebSocket.WebSocketEndpoint.AddServices(services);
        Transports.Sse.SseEndpoint.AddServices(services);
        Transports.Stream.StreamEndpoint.AddServices(services);
        Transports.LongPoll.LongPollEndpoint.AddServices(services);
        Webhooks.Inbound.InboundWebhookEndpoint.AddServices(services);
        Stats.StatsEndpoint.AddServices(services);
        Webhooks.Outbound.OutboundWebhooks.AddServices(services);
        HeraldCors.AddServices(services);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Http.ProblemDefaults.Customize);
        services.AddExceptionHandler<Http.EngineUnavailableHandler>();
        return new HeraldBuilder(services, configuration);
    }

    /// <summary>
    /// The engine's presence store; a one-node engine's is this process's memory. An engine of
    /// several nodes without one would show each node only its own users: refused at start when a
    /// namespace enables presence.
    /// </summary>
    private static Presence.IPresenceStore CreatePresenceStore(IServiceProvider services)
    {
        var engine = services.GetRequiredService<HeraldEngine>();
        if (engine.Presence is { } store)
            return store;
        var options = services.GetRequiredService<IOptions<HeraldOptions>>().Value;
        if (engine.Broker.MayLoseMessages && options.Namespaces.Values.Append(options.DefaultPolicy).Any(p => p.Presence != Presence.PresenceMode.Off))
            throw new OptionsValidationException(HeraldOptions.Section, typeof(HeraldOptions),
                [$"Presence is enabled on a namespace, but the '{engine.Name}' engine has no shared presence store yet: each node would list only its own users. Set Presence to Off for this engine (docs/scaling.md)."]);
        return new Presence.MemoryPresenceStore(engine.Broker, services.GetService<TimeProvider>());
    }

    /// <summary>Opens the engine and starts the node when the host starts, so a misconfigured engine stops the start.</summary>
    private sealed class NodeStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<Node>();
            services.GetRequiredService<Presence.PresenceService>();
            services.GetRequiredService<Typing.TypingService>();
            services.GetRequiredService<Receipts.ReceiptService>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal sealed class HeraldOptionsValidator : IValidateOptions<HeraldOptions>
{
    public ValidateOptionsResult Validate(string? name, HeraldOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
