using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.Stream;

/// <summary>`/v1/stream` (work in progress).</summary>
internal static class StreamEndpoint
{
    public static void AddServices(IServiceCollection services) => _ = services;

    public static void Map(IEndpointRouteBuilder endpoints) => _ = endpoints;
}
