using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.Server.Commands;

/// <summary><c>herald publish</c> and <c>herald history</c>: talk to a running server over its HTTP API.</summary>
internal static class ClientCommands
{
    internal static readonly Option<string> Server = new("--server")
    {
        Description = "Base address of the Herald server.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HERALD_SERVER") ?? HeraldHost.DefaultUrls,
    };

    internal static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "Server API key (default: $HERALD_API_KEY, else the key saved in --data by 'herald serve').",
    };

    internal static readonly Option<string> Data = new("--data")
    {
        Description = "Data directory where 'herald serve' saved its generated API key.",
        DefaultValueFactory = _ => "herald-data",
    };

    public static Command CreatePublish()
    {
        var channel = new Argument<string>("channel") { Description = "Channel, as namespace:name." };
        var json = new Argument<string>("json") { Description = "The message: any JSON value, e.g. '{\"text\":\"hi\"}'." };
        var type = new Option<string?>("--type") { Description = "Optional message type." };
        var key = new Option<string?>("--idempotency-key") { Description = "Deduplicates retries of the same publish." };
        var command = new Command("publish", "Publish one message to a channel.") { channel, json, type, key, Server, ApiKey, Data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string body;
            try
            {
                using var data = JsonDocument.Parse(parse.GetValue(json)!);
                body = JsonSerializer.Serialize(new Dictionary<string, object?> { ["data"] = data.RootElement, ["type"] = parse.GetValue(type) }, CliJsonContext.Default.DictionaryStringObject);
            }
            catch (JsonException e)
            {
                await Console.Error.WriteLineAsync($"The message is not valid JSON: {e.Message}");
                return 2;
            }

            using var client = CreateClient(parse);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{Uri.EscapeDataString(parse.GetValue(channel)!)}/messages")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            if (parse.GetValue(key) is { } idempotencyKey)
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            return await SendAsync(client, request, cancellationToken);
        });
        return command;
    }

    public static Command CreateHistory()
    {
        var channel = new Argument<string>("channel") { Description = "Channel, as namespace:name." };
        var after = new Option<long>("--after") { Description = "Only publications after this offset." };
        var limit = new Option<int?>("--limit") { Description = "At most this many publications." };
        var reverse = new Option<bool>("--reverse") { Description = "Newest first." };
        var command = new Command("history", "Print a channel's history.") { channel, after, limit, reverse, Server, ApiKey, Data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = CreateClient(parse);
            var query = new StringBuilder().Append(CultureInfo.InvariantCulture, $"v1/channels/{Uri.EscapeDataString(parse.GetValue(channel)!)}/messages?after={parse.GetValue(after)}");
            if (parse.GetValue(limit) is { } l)
                query.Append(CultureInfo.InvariantCulture, $"&limit={l}");
            if (parse.GetValue(reverse))
                query.Append("&reverse=true");
            using var request = new HttpRequestMessage(HttpMethod.Get, query.ToString());
            return await SendAsync(client, request, cancellationToken);
        });
        return command;
    }

    internal static HttpClient CreateClient(ParseResult parse, TimeSpan? timeout = null)
    {
        var server = parse.GetValue(Server)!.Split(';')[0].TrimEnd('/') + "/";
        var client = new HttpClient { BaseAddress = new Uri(server), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        var key = parse.GetValue(ApiKey)
            ?? Environment.GetEnvironmentVariable("HERALD_API_KEY")
            ?? DataSecrets.TryRead(DataSecrets.PathIn(parse.GetValue(Data)!, DataSecrets.ApiKeyFile));
        if (key is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    internal static async Task<int> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var output = response.IsSuccessStatusCode ? Console.Out : Console.Error;
            if (text.Length > 0)
                await output.WriteLineAsync(text);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"Cannot reach {client.BaseAddress}: {e.Message}");
            return 1;
        }
    }
}
