using Herald.Log;
using Herald.Log.Sqlite;
using Herald.Webhooks.Outbound.Sqlite;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Herald.Webhooks.Outbound;

/// <summary>Registers outbound webhooks: the stores beside the channel log, the sender, the worker and the API.</summary>
internal static class OutboundWebhooks
{
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton(sp => new SqliteOutbox(Options(sp), sp.GetRequiredService<OutboxSignal>()));
        services.AddSingleton(sp => new MemoryWebhookStore(Options(sp), sp.GetRequiredService<OutboxSignal>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IWebhookOutbox>(sp => sp.GetRequiredService<IChannelLog>() switch
        {
            SqliteChannelLog sqlite => new SqliteWebhookStore(sqlite, sp.GetRequiredService<SqliteOutbox>()),
            _ => sp.GetRequiredService<MemoryWebhookStore>(),
        });
        services.AddSingleton(sp => (IWebhookSubscriptionStore)sp.GetRequiredService<IWebhookOutbox>());
        services.AddSingleton<WebhookSender>();
        services.AddHostedService<DeliveryWorker>();
    }

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        SubscriptionEndpoints.Map(endpoints);
        DeliveryEndpoints.Map(endpoints);
    }

    /// <summary>The publication sink the memory log needs besides the hub's, so that the outbox sees every append.</summary>
    public static IPublicationSink MemorySink(IServiceProvider services) => services.GetRequiredService<MemoryWebhookStore>();

    /// <summary>The extension the SQLite log runs in its transactions: the outbox's writer half.</summary>
    public static ISqliteLogExtension SqliteExtension(IServiceProvider services) => services.GetRequiredService<SqliteOutbox>();

    private static OutboundWebhookOptions Options(IServiceProvider services) =>
        services.GetRequiredService<IOptions<HeraldOptions>>().Value.Webhooks.Outbound;
}
