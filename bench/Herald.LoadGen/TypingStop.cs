using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// <c>typing</c>: how long "stopped typing" takes to reach the room after each way it ends — the
/// <c>typing_stop</c> op, the typer's next message, and the typer's connection closing. One typer
/// and <c>--watchers</c> WebSocket watchers (on <c>--watch-url</c> if given), <c>--rounds</c> of each.
/// The namespace needs <c>Typing</c> and <c>Publish: Authenticated</c>.
/// </summary>
internal static class TypingStop
{
    public static async Task<int> RunAsync(Options options)
    {
        var url = new Uri(options.Required("url"));
        var watchUrl = new Uri(options.Get("watch-url") ?? url.ToString());
        var secret = options.Required("secret");
        var channel = options.Get("channel", "room:typing-" + Environment.ProcessId);
        var rounds = options.Int("rounds", 50);
        var watchers = new List<(ClientWebSocket Socket, StreamReader Lines)>();
        for (var i = 0; i < options.Int("watchers", 10); i++)
            watchers.Add(Reader(await PresenceRoom.ConnectAsync(watchUrl, secret, $"tw{i}", channel, "off")));
        foreach (var (_, lines) in watchers)
            await NextAsync(lines, "subscribed");

        var results = new Dictionary<string, LongHistogram>();
        foreach (var way in new[] { "stop", "send", "disconnect" })
        {
            var histogram = results[way] = new LongHistogram(TimeStamp.Seconds(60), 3);
            for (var round = 0; round < rounds; round++)
            {
                var typer = await PresenceRoom.ConnectAsync(url, secret, "typer", channel, "off");
                var (_, own) = Reader(typer);
                await NextAsync(own, "subscribed");
                await SendAsync(typer, $$"""{"id":2,"op":"typing","channel":"{{channel}}"}""");
                foreach (var (_, lines) in watchers)
                    await TypingAsync(lines, expectTyper: true);

                var start = Stopwatch.GetTimestamp();
                if (way == "stop")
                    await SendAsync(typer, $$"""{"id":3,"op":"typing_stop","channel":"{{channel}}"}""");
                else if (way == "send")
                    await SendAsync(typer, $$"""{"id":3,"op":"publish","channel":"{{channel}}","data":"hi"}""");
                else
                    typer.Abort();
                foreach (var (_, lines) in watchers)
                {
                    await TypingAsync(lines, expectTyper: false);
                    histogram.RecordValue(Stopwatch.GetTimestamp() - start);
                }

                if (way != "disconnect")
                    await typer.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                typer.Dispose();
            }
        }

        Console.WriteLine(JsonSerializer.Serialize(results.ToDictionary(
            r => r.Key,
            r => new Dictionary<string, double> { ["p50Ms"] = Ms(r.Value, 50), ["p99Ms"] = Ms(r.Value, 99), ["maxMs"] = Ms(r.Value, 100) })));
        foreach (var (socket, _) in watchers)
            socket.Abort();
        return 0;
    }

    private static double Ms(LongHistogram histogram, double percentile) =>
        Math.Round(histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency, 1);

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Waits for a <c>typing</c> set with (or without) the typer, skipping everything else.</summary>
    private static async Task TypingAsync(StreamReader lines, bool expectTyper)
    {
        while (true)
        {
            using var message = JsonDocument.Parse(await NextAsync(lines, "typing"));
            var users = message.RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetString()).ToList();
            if (users.Contains("typer") == expectTyper)
                return;
        }
    }

    private static async Task<string> NextAsync(StreamReader lines, string type)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await lines.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the connection closed");
            if (line.Contains($"\"type\":\"{type}\"", StringComparison.Ordinal))
                return line;
        }
    }

    /// <summary>The socket's messages as lines (a message may hold several, '\n'-separated).</summary>
    private static (ClientWebSocket, StreamReader) Reader(ClientWebSocket socket)
    {
        var pipe = new System.IO.Pipelines.Pipe();
        _ = Task.Run(async () =>
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                        break;
                    await pipe.Writer.WriteAsync(buffer.AsMemory(0, result.Count));
                    if (result.EndOfMessage)
                        await pipe.Writer.WriteAsync("\n"u8.ToArray());
                }
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException)
            {
            }

            await pipe.Writer.CompleteAsync();
        });
        return (socket, new StreamReader(pipe.Reader.AsStream()));
    }
}
