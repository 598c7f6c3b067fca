using Herald.Redis;
using Herald.Sqlite;

namespace Herald.Server;

/// <summary><c>Herald:Store</c> (<c>serve --store</c>): the configuration switch between the engines this executable ships.</summary>
internal static class HeraldStores
{
    public static IHeraldBuilder UseConfiguredStore(this IHeraldBuilder builder)
    {
        var store = builder.Configuration[$"{HeraldOptions.Section}:{nameof(HeraldOptions.Store)}"] ?? "sqlite";
        return store.ToLowerInvariant() switch
        {
            "memory" => builder.UseMemory(),
            "redis" => builder.UseRedis(),
            // Another value is reported when the host starts, with the other invalid settings.
            _ => builder.UseSqlite(),
        };
    }
}
