using Herald.Redis;
using Herald.Settings;
using Herald.Sqlite;

namespace Herald.Server;

/// <summary><c>Herald:Store</c> (<c>serve --store</c>): the configuration switch between the engines this executable ships.</summary>
internal static class HeraldStores
{
    public static IHeraldBuilder UseConfiguredStore(this IHeraldBuilder builder)
    {
        var store = builder.Configuration[$"{HeraldOptions.Section}:{nameof(HeraldOptions.Store)}"] ?? "sqlite";
        // The other engines' settings stay known (checked for spelling and type, not used), so one
        // appsettings.json serves every store.
        switch (store.ToLowerInvariant())
        {
            case "memory":
                builder.Services.AddKnownHeraldSettings<SqliteEngineOptions>(SqliteEngineOptions.Section);
                builder.Services.AddKnownHeraldSettings<RedisEngineOptions>(RedisEngineOptions.Section);
                return builder.UseMemory();
            case "redis":
                builder.Services.AddKnownHeraldSettings<SqliteEngineOptions>(SqliteEngineOptions.Section);
                return builder.UseRedis();
            default:
                // Another value than sqlite is reported when the host starts, with the other invalid settings.
                builder.Services.AddKnownHeraldSettings<RedisEngineOptions>(RedisEngineOptions.Section);
                return builder.UseSqlite();
        }
    }
}
