using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.WebSocket;

/// <summary>`/v1/ws` (work in progress).</summary>
internal static class WebSocketEndpoint
{
    public static void AddServices(IServiceCollection services) => _ = services;

    public static void Map(IEndpointRouteBuilder endpoints) => _ = endpoints;
}
