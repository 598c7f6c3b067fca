using Herald.Auth;
using Herald.Http;
using Herald.Http.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.WebSocket;

/// <summary>
/// <c>GET /v1/ws</c>: the full-duplex transport. Checks the Origin and the credentials before the
/// upgrade (refusals are problem documents), then hands the socket to a <see cref="WebSocketConnection"/>.
/// </summary>
internal static class WebSocketEndpoint
{
    public const string Path = "/v1/ws";

    public static void AddServices(IServiceCollection services) => services.AddSingleton<WebSocketServices>();

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // The endpoint brings its own WebSocket middleware, as SignalR's MapHub does, so MapHerald
        // works without the host calling app.UseWebSockets(). Keep-alive pings are off: the
        // ConnectionRegistry's one timer sends Herald's own heartbeat, with no timer per socket.
        var pipeline = endpoints.CreateApplicationBuilder();
        var maxMessageBytes = endpoints.ServiceProvider.GetRequiredService<WebSocketServices>().Options.Transports.MaxWebSocketMessageBytes;
        pipeline.Use((context, next) => GuardedUpgrade.Install(context, next, maxMessageBytes));
        pipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = Timeout.InfiniteTimeSpan });
        pipeline.Run(HandleAsync);

        var handler = pipeline.Build();

        // HTTP/2 opens a WebSocket with an extended CONNECT (RFC 8441: :method CONNECT,
        // :protocol websocket), which routing sees as CONNECT; the same pipeline takes it. OpenAPI
        // has no CONNECT operation, so the GET below documents both.
        endpoints.MapMethods(Path, [HttpMethods.Connect], handler).ExcludeFromDescription();

        endpoints.MapGet(Path, handler)
            .WithName("WebSocket")
            .WithTags("Transports")
            .WithMetadata(new ApiManualOperation(
                "WebSocket",
                "Open a full-duplex WebSocket (subscribe, publish, history, ping as JSON messages)",
                "Transports",
                "A WebSocket upgrade (GET with Connection: Upgrade, Upgrade: websocket, Sec-WebSocket-Key, Sec-WebSocket-Version: 13). Origin and credentials are checked before the upgrade; refusals are problem documents. The messages, replies and close codes: docs/protocol.md#websocket--get-v1ws",
                [
                    new ApiManualResponse(StatusCodes.Status101SwitchingProtocols, "Switching Protocols: the connection speaks Herald's WebSocket protocol."),
                    new ApiManualResponse(StatusCodes.Status403Forbidden, "origin_not_allowed (the Origin is not allowed) or forbidden (credentials sent and not valid).", "application/problem+json", "ProblemDetails"),
                    new ApiManualResponse(StatusCodes.Status426UpgradeRequired, "upgrade_required: not a WebSocket handshake.", "application/problem+json", "ProblemDetails"),
                ]))
            .WithHeader("Upgrade", "websocket", required: true)
            .WithHeader("Connection", "Upgrade", required: true)
            .WithHeader("Sec-WebSocket-Key", "The handshake key (RFC 6455).", required: true)
            .WithHeader("Sec-WebSocket-Version", "13", required: true)
            .WithHeader("Origin", "Checked against Herald:Transports:AllowedOrigins when present (browsers send it).")
            .WithAuth(ApiAuth.Policy);
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices.GetRequiredService<WebSocketServices>();
        var refusal = await CheckAsync(context, services);
        if (refusal.Problem is not null)
        {
            await refusal.Problem.ExecuteAsync(context);
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = false,
            KeepAliveInterval = Timeout.InfiniteTimeSpan,
        });

        // The connection disposes the socket when it ends.
        await new WebSocketConnection(socket, refusal.Caller, services, guard: context.Features.Get<InboundFrameGuard>(), personalSince: refusal.PersonalSince).RunAsync(context.RequestAborted);
    }

    private static async ValueTask<(IResult? Problem, Caller Caller, PersonalPositions? PersonalSince)> CheckAsync(HttpContext context, WebSocketServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers.Upgrade = "websocket";
            return (Problems.Make(StatusCodes.Status426UpgradeRequired, "upgrade_required", "WebSocket upgrade required",
                $"{Path} speaks WebSocket only (Connection: Upgrade, Upgrade: websocket); see docs/protocol.md."), default, null);
        }

        return await CheckRequestAsync(context.Request, services);
    }

    /// <summary>
    /// The Origin, credential and cursor checks, shared with <see cref="WebSocketFastPath"/>.
    /// <c>PersonalSince</c>: where the auto-subscribed personal channels resume (from <c>?cursor=</c>).
    /// </summary>
    internal static async ValueTask<(IResult? Problem, Caller Caller, PersonalPositions? PersonalSince)> CheckRequestAsync(HttpRequest request, WebSocketServices services)
    {
        var origin = request.Headers.Origin.ToString();
        if (!OriginPolicy.IsAllowed(origin, request, services.Options.Transports.AllowedOrigins))
        {
            return (Problems.Make(StatusCodes.Status403Forbidden, "origin_not_allowed", "Origin not allowed",
                $"Origin '{origin}' may not open a WebSocket here; add it to Herald:Transports:AllowedOrigins."), default, null);
        }

        // Anonymous callers may connect: each op checks its namespace's policy. Credentials that were
        // sent and do not verify (bad key, expired or forged token) are refused now, as on every
        // HTTP endpoint, rather than silently downgraded to anonymous.
        var caller = await services.Authenticator.IdentifyAsync(request);
        if (caller.Kind == CallerKind.Invalid)
            return (Problems.Forbidden(caller.Error ?? "The credentials are not valid."), caller, null);

        return PersonalPositions.Read(request, caller, services.Options) is { } read
            ? (read.Problem, caller, read.Positions)
            : (null, caller, null);
    }
}
