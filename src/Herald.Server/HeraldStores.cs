using Herald.Settings;
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
            // The sqlite engine's settings stay known (checked, not used), so one appsettings.json
            // serves both stores.
            "memory" => builder.UseMemory().KnowSqliteSettings(),
            // Another value is reported when the host starts, with the other invalid settings.
            _ => builder.UseSqlite(),
        };
    }

    private static IHeraldBuilder KnowSqliteSettings(this IHeraldBuilder builder)
    {
        builder.Services.AddKnownHeraldSettings<SqliteEngineOptions>(SqliteEngineOptions.Section);
        return builder;
    }
}
