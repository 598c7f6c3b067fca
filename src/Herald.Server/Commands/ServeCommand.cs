using System.CommandLine;

namespace Herald.Server.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on, ';'-separated (default {HeraldHost.DefaultUrls})." };
        var data = new Option<string?>("--data") { Description = "Data directory for the SQLite store and the generated API key (default ./herald-data)." };
        var store = new Option<string?>("--store") { Description = "Channel store: sqlite (default, durable) or memory." };
        store.AcceptOnlyFromAmong("sqlite", "memory");

        var command = new Command("serve", "Run the Herald server. Any setting can also be given as --Section:Key=value, HERALD__KEY environment variables or appsettings.json.")
        {
            urls, data, store,
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

            await using var app = HeraldHost.Build([.. parse.UnmatchedTokens], overrides);
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
