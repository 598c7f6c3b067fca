// Peer baseline for Herald's fan-out: stock ASP.NET Core SignalR, JSON protocol, WebSockets only,
// default keep-alive (server ping every 15 s, client timeout 30 s). Herald.LoadGen drives it with
// --target signalr.
//
//   SignalRPeer --urls http://127.0.0.1:PORT [--no-logging] [--redis CONFIGURATION]
//
// --redis                 scales out on the Redis backplane (Microsoft.AspNetCore.SignalR.
//                         StackExchangeRedis) with this StackExchange.Redis configuration string:
//                         a group send is PUBLISHed to Redis and every node writes it to its own
//                         members. Without it, a single node with the in-memory lifetime manager.
//                         Herald.Chaos signalr runs three such nodes and kills them.
// /hub                    the hub. Join(group): adds the caller to the group, returns true.
//                         Say(group, payload): sends payload to the group (the caller included) as
//                         "m" — the chat scenario, every member sending over its own connection.
//                         Clients may connect the WebSocket directly (skipNegotiation).
// POST /publish/{group}   broadcasts the request body (raw JSON text) as one string argument:
//                         Clients.Group(group).SendAsync("m", body); answers 201 only once
//                         SendAsync has completed — on the backplane, once Redis accepted the
//                         PUBLISH — and 500 when it failed, so "acknowledged" means it left.
// GET /published/{group}  how many publishes to the group were broadcast (the generator's "top").
// GET /healthz            "ok".
using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using SignalRPeer;

var builder = WebApplication.CreateSlimBuilder(args);
if (builder.Configuration["no-logging"] is { } off && !string.Equals(off, "false", StringComparison.OrdinalIgnoreCase))
    builder.Logging.ClearProviders();
var signalR = builder.Services.AddSignalR();
// A configuration key, like --no-logging: the host's command-line provider reads "--redis VALUE".
if (builder.Configuration["redis"] is { Length: > 0 } redis)
    signalR.AddStackExchangeRedis(redis);

var app = builder.Build();
var published = new ConcurrentDictionary<string, StrongBox>(StringComparer.Ordinal);

app.UseWebSockets();
app.MapHub<BenchHub>("/hub", o => o.Transports = HttpTransportType.WebSockets);
app.MapGet("/healthz", () => "ok");
app.MapPost("/publish/{group}", async (string group, HttpRequest request, IHubContext<BenchHub> hub) =>
{
    using var reader = new StreamReader(request.Body);
    var payload = await reader.ReadToEndAsync();
    // Awaited before answering: an exception (Redis unreachable, timeout) becomes a 500, never a 201.
    await hub.Clients.Group(group).SendAsync("m", payload);
    Interlocked.Increment(ref published.GetOrAdd(group, _ => new StrongBox()).Value);
    return Results.StatusCode(StatusCodes.Status201Created);
});
app.MapGet("/published/{group}", (string group) =>
    Results.Text((published.TryGetValue(group, out var count) ? Interlocked.Read(ref count.Value) : 0).ToString(CultureInfo.InvariantCulture)));

app.Run();

namespace SignalRPeer
{
    /// <summary>The benchmark hub: clients join groups; fan-out messages come from POST /publish, chat messages from Say.</summary>
    internal sealed class BenchHub : Hub
    {
        public async Task<bool> Join(string group)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, group);
            return true;
        }

        public Task Say(string group, string payload) => Clients.Group(group).SendAsync("m", payload);
    }

    internal sealed class StrongBox
    {
        public long Value;
    }
}
