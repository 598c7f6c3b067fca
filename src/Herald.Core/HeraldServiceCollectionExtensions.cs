using Herald.Auth;
using Herald.Log;
using Herald.Log.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald;

public static class HeraldServiceCollectionExtensions
{
    /// <summary>
    /// Registers Herald's core: options bound from the <c>Herald</c> section (validated on start),
    /// the channel log chosen by <c>Herald:Store</c>, the hub, and the HTTP API's services.
    /// </summary>
    public static IServiceCollection AddHerald(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HeraldOptions>()
            .Bind(configuration.GetSection(HeraldOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<HeraldOptions>, HeraldOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new Hub.ChannelHub(sp.GetService<ILogger<Hub.ChannelHub>>()));
        services.AddSingleton<IChannelLog>(CreateLog);
        services.AddSingleton<TokenValidator>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<Transports.ConnectionRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<Transports.ConnectionRegistry>());
        Transports.WebSocket.WebSocketEndpoint.AddServices(services);
        Transports.Sse.SseEndpoint.AddServices(services);
        Transports.Stream.StreamEndpoint.AddServices(services);
        Transports.LongPoll.LongPollEndpoint.AddServices(services);
        Webhooks.Inbound.InboundWebhookEndpoint.AddServices(services);
        Stats.StatsEndpoint.AddServices(services);
        Webhooks.Outbound.OutboundWebhooks.AddServices(services);
        HeraldCors.AddServices(services);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Http.ProblemDefaults.Customize);
        return services;
    }

    private static IChannelLog CreateLog(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<HeraldOptions>>().Value;
        var hub = services.GetRequiredService<Hub.ChannelHub>();
        var polls = services.GetRequiredService<Transports.LongPoll.PollWaiters>();
        var time = services.GetRequiredService<TimeProvider>();
        if (string.Equals(options.Store, "memory", StringComparison.OrdinalIgnoreCase))
        {
            // The memory store has no transaction to share: its outbox hears of each publication as a sink.
            return new MemoryChannelLog(new CompositeSink(hub, polls, Webhooks.Outbound.OutboundWebhooks.MemorySink(services)), time);
        }

        var directory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(directory);
        return new SqliteChannelLog(
            Path.Combine(directory, "herald.db"),
            new CompositeSink(hub, polls),
            time,
            services.GetRequiredService<ILogger<SqliteChannelLog>>(),
            options: null,
            Webhooks.Outbound.OutboundWebhooks.SqliteExtension(services));
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
