using Herald.Redis;
using Herald.Testing;
using StackExchange.Redis;

namespace Herald.Specification;

/// <summary>One real redis-server (no persistence) for a test class; each test works under its own key prefix.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Connection = await ConnectionMultiplexer.ConnectAsync(Server.Configuration);
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }

    /// <summary>Options with a prefix no other test uses.</summary>
    public static RedisEngineOptions NewOptions() => new() { Prefix = "t" + Guid.NewGuid().ToString("N")[..12] };
}
