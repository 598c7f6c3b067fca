using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Webhooks.Outbound;

/// <summary>Registers outbound webhooks: the engine's stores, the sender, the worker and the API.</summary>
internal static class OutboundWebhooks
{
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton<OutboxSignal>();
        // The engine supplies both (it is refused at start without them): the outbox must be
        // written in the append's atomic step, which only the engine can do.
        services.AddSingleton(sp => sp.GetRequiredService<HeraldEngine>().Outbox!);
        services.AddSingleton(sp => sp.GetRequiredService<HeraldEngine>().Subscriptions!);
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<PresenceWebhooks>();
        services.AddHostedService<DeliveryWorker>();
    }

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        SubscriptionEndpoints.Map(endpoints);
        DeliveryEndpoints.Map(endpoints);
    }
}
