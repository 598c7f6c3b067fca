using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Client;

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
        var key = new Option<string?>("--idempotency-key") { Description = "Deduplicates retries of the same publish (default: a random key, so the client's own retries never append twice)." };
        var command = new Command("publish", "Publish one message to a channel; prints its position.") { channel, json, type, key, Server, ApiKey, Data };
        command.SetAction(async (parse, cancellationToken) =>
        {
            JsonData data;
            try
            {
                data = JsonData.Parse(parse.GetValue(json)!);
            }
            catch (HeraldException e)
            {
                await Console.Error.WriteLineAsync($"The message is not valid JSON: {e.Message}");
                return 2;
            }

            await using var client = new HeraldClient(CreateOptions(parse));
            try
            {
                var result = await client.PublishAsync(parse.GetValue(channel)!, data, new PublishOptions { Type = parse.GetValue(type), IdempotencyKey = parse.GetValue(key) }, cancellationToken);
                using var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    writer.WriteString("channel", result.Channel);
                    writer.WriteNumber("offset", result.Offset);
                    writer.WriteString("epoch", result.Epoch);
                    writer.WriteString("id", result.Id);
                    writer.WriteString("time", result.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                    if (result.Duplicate)
                        writer.WriteBoolean("duplicate", true);
                    writer.WriteEndObject();
                }

                await Console.Out.WriteLineAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
                return 0;
            }
            catch (HeraldException e)
            {
                await Console.Error.WriteLineAsync($"{e.Code}: {e.Message}");
                return 1;
            }
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

    /// <summary>Client options from --server and the API key (--api-key, $HERALD_API_KEY, or the one 'serve' saved in --data).</summary>
    internal static HeraldClientOptions CreateOptions(ParseResult parse) => new()
    {
        BaseAddress = new Uri(parse.GetValue(Server)!.Split(';')[0].TrimEnd('/') + "/"),
        ApiKey = FindApiKey(parse),
    };

    private static string? FindApiKey(ParseResult parse) =>
        parse.GetValue(ApiKey)
        ?? Environment.GetEnvironmentVariable("HERALD_API_KEY")
        ?? DataSecrets.TryRead(DataSecrets.PathIn(parse.GetValue(Data)!, DataSecrets.ApiKeyFile));

    internal static HttpClient CreateClient(ParseResult parse, TimeSpan? timeout = null)
    {
        var server = parse.GetValue(Server)!.Split(';')[0].TrimEnd('/') + "/";
        var client = new HttpClient { BaseAddress = new Uri(server), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (FindApiKey(parse) is { } key)
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
