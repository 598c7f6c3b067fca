using System.CommandLine;

namespace Herald.Server.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on, ';'-separated (default {HeraldHost.DefaultUrls})." };
        var data = new Option<string?>("--data") { Description = "Data directory for the SQLite store and the generated API key (default ./herald-data)." };
        var store = new Option<string?>("--store") { Description = "Channel store: sqlite (default, durable, one node), redis (several nodes) or memory." };
        store.AcceptOnlyFromAmong("sqlite", "memory", "redis");
        var redis = new Option<string?>("--redis") { Description = "With --store redis: the Redis configuration string (default localhost:6379; Herald:Redis:Configuration)." };

        var command = new Command("serve", "Run the Herald server. Any setting can also be given as --Section:Key=value, HERALD__KEY environment variables or appsettings.json.")
        {
            urls, data, store, redis,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (parse.GetValue(urls) is { } u)
                overrides["urls"] = u;
            if (parse.GetValue(data) is { } d)
                overrides["Herald:DataDirectory"] = d;
            if (parse.GetValue(store) is { } s)
                overrides["Herald:Store"] = s;
            if (parse.GetValue(redis) is { } r)
                overrides["Herald:Redis:Configuration"] = r;

            await using var app = HeraldHost.Build([.. parse.UnmatchedTokens], overrides);
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
