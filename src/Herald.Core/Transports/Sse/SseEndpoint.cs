using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.Sse;

/// <summary>`/v1/sse` (work in progress).</summary>
internal static class SseEndpoint
{
    public static void AddServices(IServiceCollection services) => _ = services;

    public static void Map(IEndpointRouteBuilder endpoints) => _ = endpoints;
}
