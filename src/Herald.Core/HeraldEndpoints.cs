using Microsoft.AspNetCore.Routing;

namespace Herald;

public static class HeraldEndpoints
{
    /// <summary>Maps every Herald endpoint: the HTTP API, the transports, webhooks in and out, and the stats.</summary>
    public static IEndpointRouteBuilder MapHerald(this IEndpointRouteBuilder endpoints)
    {
        Api.ApiEndpoints.Map(endpoints);
        Api.UserEndpoints.Map(endpoints);
        Api.ReadEndpoints.Map(endpoints);
        Api.ReceiptEndpoints.Map(endpoints);
        Transports.WebSocket.WebSocketEndpoint.Map(endpoints);
        Transports.Sse.SseEndpoint.Map(endpoints);
        Transports.Stream.StreamEndpoint.Map(endpoints);
        Transports.LongPoll.LongPollEndpoint.Map(endpoints);
        Webhooks.Inbound.InboundWebhookEndpoint.Map(endpoints);
        Stats.StatsEndpoint.Map(endpoints);
        Webhooks.Outbound.OutboundWebhooks.Map(endpoints);
        return endpoints;
    }
}
