using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.LongPoll;

/// <summary>`/v1/poll` (work in progress).</summary>
internal static class LongPollEndpoint
{
    public static void AddServices(IServiceCollection services) => _ = services;

    public static void Map(IEndpointRouteBuilder endpoints) => _ = endpoints;
}
