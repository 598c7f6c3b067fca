using Herald.Auth;
using Herald.Engine;
using Herald.Hub;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Transports.Push;

/// <summary>
/// Runs one push connection (SSE or HTTP streaming) from request to end: parse and authorize,
/// start the response, open a <see cref="Session"/>, subscribe each channel with recovery, then
/// hold the response until the client leaves or the session closes.
/// </summary>
/// <remarks>
/// The subscribe reply of each channel is queued by <see cref="Session.SubscribeAsync(string, Position?, IChannelLog, Func{SubscribeResult, ReadOnlyMemory{byte}}?, CancellationToken)"/>
/// before that channel's history and live publications, so the client learns <c>recovered</c>
/// for a channel before it sees anything of it, and the first message of the connection is a
/// <c>subscribed</c> one. A combined reply for all channels would have to hold back channel A's
/// replay while channel B subscribes, outside the session's byte budget; one reply per channel
/// needs no hold.
/// </remarks>
internal sealed partial class PushHost(
    ChannelHub hub,
    IChannelLog log,
    ConnectionRegistry registry,
    Authenticator authenticator,
    Presence.PresenceService presence,
    Receipts.ReceiptService receipts,
    UserCommands userCommands,
    IOptions<HeraldOptions> options,
    ILogger<Session> sessionLogger,
    ILogger<PushHost> logger)
{
    public HeraldOptions Options => options.Value;

    public static void AddServices(IServiceCollection services) => services.TryAddSingleton<PushHost>();

    /// <summary>Serves one connection; <paramref name="createTransport"/> makes the transport for a parsed request.</summary>
    public async Task<IResult> RunAsync(HttpContext context, Func<HttpContext, CursorTracker, PushTransport> createTransport)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(createTransport);
        var settings = options.Value;
        var (request, problem) = await SubscriptionRequest.ParseAsync(context, authenticator, settings, personal: true);
        if (problem is not null)
            return problem;

        var aborted = context.RequestAborted;
        var transport = createTransport(context, new CursorTracker(request!.Channels, request.Positions));
        var response = context.Response;
        transport.PrepareResponse(response);

        // Nothing may sit in a buffer between the session's flush and the socket (a compression or
        // buffering middleware would hold events back until it has "enough").
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.StartAsync(aborted);
            transport.WritePreamble(response.BodyWriter);
            await response.BodyWriter.FlushAsync(aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }

        var session = new Session(transport, hub, settings, sessionLogger) { User = request.Caller.Kind == CallerKind.User ? request.Caller.User : null, UserInfo = request.Caller.Info };
        transport.Attach(session);
        registry.Add(transport);
        Log.Opened(logger, transport.Transport, session.Id, request.Channels.Count);

        try
        {
            // A user's session is reachable by the per-user server API on every node from its first reply on.
            if (session.User is not null)
                await userCommands.EnsureListeningAsync(aborted);
            foreach (var channel in request.Channels)
            {
                var since = request.PositionOf(channel);
                await session.SubscribeAsync(channel, since, log, SubscribeReply.For(channel, since), aborted);
                var mode = presence.Allowed(channel, request.Caller, request.Presence ?? Presence.PresenceMode.Enter);
                await presence.AttachAsync(session, channel, mode, request.PresencePositionOf(channel), announce: request.Presence is not null, aborted);
                if (request.Receipts)
                    await receipts.AttachAsync(session, channel, aborted);
            }

            await session.Completion.WaitAsync(aborted);
        }
        catch (OperationCanceledException)
        {
            // The client left (aborted) or the session closed during a subscribe (slow consumer,
            // history lost, shutdown): either way the session is closed below.
        }
        catch (InvalidOperationException) when (session.CloseReason is not null)
        {
            // Subscribing raced the session's close.
        }
        finally
        {
            registry.Remove(transport);
            await session.DisposeAsync();
            Log.Closed(logger, transport.Transport, session.Id, session.CloseReason?.Code ?? 0);
        }

        return Results.Empty;
    }
}
