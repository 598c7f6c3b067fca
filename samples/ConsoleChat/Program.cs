using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Client;

// A terminal chat room:
//   dotnet run --project src/Herald.Server -- serve            (Development: anyone may publish to chat:)
//   dotnet run --project samples/ConsoleChat -- alice lobby
//   dotnet run --project samples/ConsoleChat -- bob lobby --transport sse
// Type a line and Enter to send it; Ctrl-D or Ctrl-C to leave. HERALD_SERVER and HERALD_TOKEN
// (a user JWT: `herald token --sub alice`) point it elsewhere.
var name = args.Length > 0 ? args[0] : Environment.UserName;
var room = "chat:" + (args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : "lobby");
var options = new HeraldClientOptions
{
    BaseAddress = new Uri(Environment.GetEnvironmentVariable("HERALD_SERVER") ?? "http://localhost:8080"),
    Token = Environment.GetEnvironmentVariable("HERALD_TOKEN"),
};
var transport = Array.IndexOf(args, "--transport");
if (transport >= 0 && transport + 1 < args.Length && HeraldTransports.TryParse(args[transport + 1], out var only))
{
    options.Transports.Clear();
    options.Transports.Add(only);
}

await using var herald = new HeraldClient(options);
herald.Connected += (_, e) => Console.Error.WriteLine($"[connected over {e.Transport.Name()}]");
herald.Disconnected += (_, e) => Console.Error.WriteLine($"[disconnected: {e.Reason}{(e.RetryIn is { } wait ? $", retrying in {wait.TotalSeconds:0.0} s" : "")}]");

// The last 20 lines, then live from exactly there: nothing missed in between, nothing twice.
var recent = await herald.HistoryAsync(room, ChatJson.Default.ChatLine, new HistoryOptions { Limit = 20, Reverse = true });
foreach (var line in recent.Publications.Reverse())
    Show(line);
var subscription = await herald.SubscribeAsync(room, ChatJson.Default.ChatLine, new SubscribeOptions { Since = new Position(recent.Epoch, recent.Top) });
subscription.Received += (_, line) => Show(line);
subscription.Reset += (_, _) => Console.Error.WriteLine("[history was lost while away: some lines are missing]");
Console.Error.WriteLine($"[{name} in {room}: type and press Enter]");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
while (!stop.IsCancellationRequested && await Console.In.ReadLineAsync(stop.Token) is { } text)
{
    if (text.Length == 0)
        continue;
    try
    {
        await herald.PublishAsync(room, new ChatLine(name, text), ChatJson.Default.ChatLine, new PublishOptions { Type = "message" }, stop.Token);
    }
    catch (HeraldException e)
    {
        Console.Error.WriteLine($"[not sent: {e.Code}: {e.Message}]");
    }
}

static void Show(Publication<ChatLine> line) =>
    Console.WriteLine($"{line.Time.ToLocalTime():HH:mm:ss} {line.Data?.Name ?? line.From ?? "?"}: {line.Data?.Text}");

/// <summary>One chat line as the demo chat at / sends it.</summary>
internal sealed record ChatLine(string Name, string Text);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ChatLine))]
internal sealed partial class ChatJson : JsonSerializerContext;
