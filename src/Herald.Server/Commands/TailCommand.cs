using System.CommandLine;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Herald.Server.Commands;

/// <summary>
/// <c>herald tail &lt;channel&gt; --transport ws|sse|stream|poll|longpoll</c>: prints what arrives, one
/// message per line as the transport delivers it, for people debugging from a terminal.
/// </summary>
internal static class TailCommand
{
    public static Command Create()
    {
        var channels = new Argument<string[]>("channel") { Description = "Channel(s), as namespace:name.", Arity = ArgumentArity.OneOrMore };
        var transport = new Option<string>("--transport", "-t") { Description = "ws, sse, stream, poll (short polling) or longpoll.", DefaultValueFactory = _ => "sse" };
        transport.AcceptOnlyFromAmong("ws", "sse", "stream", "poll", "longpoll");
        var cursor = new Option<string?>("--cursor") { Description = "Resume from this cursor (as printed by an earlier tail)." };
        var interval = new Option<double>("--interval") { Description = "Seconds between short polls.", DefaultValueFactory = _ => 1.0 };
        var command = new Command("tail", "Print what arrives on channels over one transport.")
        {
            channels, transport, cursor, interval, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = parse.GetValue(channels)!;
            using var client = ClientCommands.CreateClient(parse, Timeout.InfiniteTimeSpan);
            try
            {
                return parse.GetValue(transport) switch
                {
                    "ws" => await TailWebSocketAsync(client, names, cancellationToken),
                    "poll" => await PollAsync(client, names, parse.GetValue(cursor), 0, TimeSpan.FromSeconds(parse.GetValue(interval)), cancellationToken),
                    "longpoll" => await PollAsync(client, names, parse.GetValue(cursor), 25, TimeSpan.Zero, cancellationToken),
                    var streaming => await TailStreamAsync(client, streaming!, names, parse.GetValue(cursor), cancellationToken),
                };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or WebSocketException or IOException)
            {
                await Console.Error.WriteLineAsync($"{client.BaseAddress}: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static string Query(string[] channels, string? cursor)
    {
        var query = string.Join('&', channels.Select(c => "channel=" + Uri.EscapeDataString(c)));
        return cursor is null ? query : query + "&cursor=" + Uri.EscapeDataString(cursor);
    }

    /// <summary>SSE and NDJSON: print every non-empty line of the response as it arrives.</summary>
    private static async Task<int> TailStreamAsync(HttpClient client, string transport, string[] channels, string? cursor, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/{transport}?{Query(channels, cursor)}");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            return await FailAsync(response, cancellationToken);

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length > 0)
                await Console.Out.WriteLineAsync(line);
        }

        return 0;
    }

    /// <summary>Short or long polling: follow the cursor, print each publication as one JSON line.</summary>
    private static async Task<int> PollAsync(HttpClient client, string[] channels, string? cursor, int wait, TimeSpan pause, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var response = await client.GetAsync(new Uri($"v1/poll?{Query(channels, cursor)}&wait={wait}", UriKind.Relative), cancellationToken);
            if (!response.IsSuccessStatusCode)
                return await FailAsync(response, cancellationToken);

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            foreach (var publication in answer.RootElement.GetProperty("publications").EnumerateArray())
                await Console.Out.WriteLineAsync(publication.GetRawText());
            cursor = answer.RootElement.GetProperty("cursor").GetString();
            if (pause > TimeSpan.Zero)
                await Task.Delay(pause, cancellationToken);
        }

        return 0;
    }

    /// <summary>WebSocket: subscribe to each channel, print every message of every frame.</summary>
    private static async Task<int> TailWebSocketAsync(HttpClient client, string[] channels, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        if (client.DefaultRequestHeaders.Authorization is { } authorization)
            socket.Options.SetRequestHeader("Authorization", authorization.ToString());
        var uri = new UriBuilder(new Uri(client.BaseAddress!, "v1/ws")) { Scheme = client.BaseAddress!.Scheme == "https" ? "wss" : "ws" }.Uri;
        await socket.ConnectAsync(uri, cancellationToken);

        for (var i = 0; i < channels.Length; i++)
        {
            var subscribe = JsonSerializer.SerializeToUtf8Bytes(
                new Dictionary<string, object> { ["id"] = i + 1, ["op"] = "subscribe", ["channel"] = channels[i] }, CliJsonContext.Default.DictionaryStringObject);
            await socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }

        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await Console.Error.WriteLineAsync($"closed: {(int?)received.CloseStatus} {received.CloseStatusDescription}");
                return 0;
            }

            message.Write(buffer, 0, received.Count);
            if (!received.EndOfMessage)
                continue;

            foreach (var line in Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await Console.Out.WriteLineAsync(line);
            message.SetLength(0);
        }

        return 0;
    }

    private static async Task<int> FailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return 1;
    }
}
