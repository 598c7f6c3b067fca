using System.Globalization;
using Herald.Auth;
using Herald.Engine;
using Herald.Http;
using Herald.Http.OpenApi;
using Publication = Herald.Engine.Publication;
using Herald.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Herald.Transports.LongPoll;

/// <summary>
/// <c>GET /v1/poll?channel=a&amp;channel=b&amp;cursor=…&amp;wait=25</c>: long polling, and short
/// polling with <c>wait=0</c>. Stateless — the cursor is the whole session — so any node answers
/// and no sticky sessions are needed. The contract is docs/protocol.md.
/// </summary>
/// <remarks>
/// A held poll registers its <see cref="PollWaiter"/> before it reads the log, so a publication
/// committed at any moment is either in that read or wakes the poll. It holds no timer of its own
/// beyond one <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>, and it gives its slot
/// back as soon as the client goes away (<see cref="HttpContext.RequestAborted"/>).
/// </remarks>
internal static class LongPollEndpoint
{
    public static void AddServices(IServiceCollection services)
    {
        services.AddSingleton<PollLimiter>();
    }

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/poll", HandleAsync)
            .WithTags("Transports")
            .RequireCors(HeraldCors.PolicyName)
            .WithName("Poll")
            .WithSummary("Long poll (wait > 0) or short poll (wait=0) one or more channels from a cursor")
            .Produces<PollResponse>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSubscriptionParameters()
            .WithQuery("wait", "Seconds to hold the request while nothing is pending, 0 (a short poll: answered at once) to Herald:Transports:MaxPollWaitSeconds (60).", ParameterType.Integer, minimum: 0, defaultValue: "25")
            .WithHeader("If-None-Match", "wait=0 on one channel: the ETag of the previous (empty) answer; 304 while nothing changed.")
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", "wait=0 on one channel: the channel's state and the request's position.")
            .WithResponseHeader(StatusCodes.Status304NotModified, "ETag", "The unchanged ETag.")
            .WithResponseHeader(StatusCodes.Status429TooManyRequests, "Retry-After", "Seconds to wait before polling again.", ParameterType.Integer)
            .WithAuth(ApiAuth.Policy);
    }

    public static async Task<IResult> HandleAsync(
        HttpContext context,
        IChannelLog log,
        Authenticator authenticator,
        IOptions<HeraldOptions> options,
        PollWaiters waiters,
        PollLimiter limiter,
        PollCounters polls,
        IHostApplicationLifetime lifetime,
        Presence.PresenceService presence,
        Typing.TypingService typing)
    {
        var settings = options.Value;
        var transports = settings.Transports;
        context.Response.Headers.CacheControl = "no-store";
        if (!TryParseWait(context.Request.Query["wait"], transports, out var wait))
            return Problems.InvalidQuery($"'wait' must be a whole number of seconds from 0 to {transports.MaxPollWaitSeconds}.");

        var (request, problem) = await SubscriptionRequest.ParseAsync(context, authenticator, settings);
        if (request is null)
            return problem!;
        if (request.Receipts)
            return Problems.InvalidQuery("Receipts are pushed on WebSocket, SSE and streaming; a poller reads them with GET /v1/channels/{channel}/receipts.");

        var aborted = context.RequestAborted;
        var since = request.Channels.Select(request.PositionOf).ToArray();
        var readPresence = PresenceReader(presence, request, TimeSpan.FromSeconds(wait) + settings.PolicyFor(request.Channels[0]).PresenceLeaveGrace + TimeSpan.FromSeconds(3));
        var readTyping = TypingReader(typing, settings, request);
        try
        {
            if (wait == 0)
            {
                polls.CountShortPoll();
                if (readPresence is not null || readTyping is not null)
                {
                    var presencePart = readPresence is null ? null : (await readPresence(aborted)).Part;
                    return (await PollReader.ReadAsync(log, request.Channels, since, transports.MaxPollMessages, aborted)).WithParts(presencePart, readTyping?.Invoke().Part);
                }

                return await ShortPollAsync(context, log, request, since, transports.MaxPollMessages);
            }

            var address = context.Connection.RemoteIpAddress;
            if (!limiter.TryAcquire(address, out var limit))
            {
                context.Response.Headers.RetryAfter = PollLimiter.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.TooManyPolls(
                    PollLimiter.RetryAfterSeconds,
                    limit == "ip"
                        ? $"This client address already holds {transports.MaxHeldPollsPerIp} long polls (Herald:Transports:MaxHeldPollsPerIp)."
                        : $"This node already holds {transports.MaxHeldPolls} long polls (Herald:Transports:MaxHeldPolls).");
            }

            polls.CountLongPoll();
            try
            {
                var held = await HoldAsync(log, waiters, request.Channels, since, transports.MaxPollMessages, TimeSpan.FromSeconds(wait), readPresence, readTyping, aborted, lifetime.ApplicationStopping);
                if (request.Presence is { } asked)
                {
                    // Answered: from now on the lease covers the grace and the next request, not the wait.
                    foreach (var channel in request.Channels)
                        presence.RenewPollLease(channel, request.Caller, asked, settings.PolicyFor(channel).PresenceLeaveGrace + TimeSpan.FromSeconds(3));
                }

                return held;
            }
            finally
            {
                limiter.Release(address);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client is gone: nobody reads an answer.
            return Results.Empty;
        }
    }

    /// <summary>Reads until there is news, or <paramref name="wait"/> passes, or the node stops.</summary>
    private static async Task<IResult> HoldAsync(
        IChannelLog log,
        PollWaiters waiters,
        IReadOnlyList<string> channels,
        Position?[] since,
        int maxMessages,
        TimeSpan wait,
        Func<CancellationToken, Task<(Dictionary<string, byte[]>? Part, bool News)>>? readPresence,
        Func<(Dictionary<string, byte[]> Part, bool News)>? readTyping,
        CancellationToken aborted,
        CancellationToken stopping)
    {
        // One timer for the whole poll. Stopping answers at once with the cursor so far, so a
        // client re-polls (on another node) instead of being cut off by the shutdown timeout.
        using var expiry = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        expiry.CancelAfter(wait);
        PollAnswer? answer = null;
        while (true)
        {
            object? woken;
            using (var waiter = waiters.Register(channels))
            {
                // Read at once: what the log already holds answers the poll even while the node is
                // still starting to follow a channel (slow after an engine outage, say).
                (answer, var news) = await ReadAsync(log, channels, since, maxMessages, readPresence, readTyping, aborted);
                if (!news && !expiry.IsCancellationRequested && !waiter.Following.IsCompletedSuccessfully)
                {
                    // Hold only once every channel is followed, and read again then: a publication
                    // committed meanwhile is in that read or wakes the poll. Never longer than the wait.
                    if (!await FollowedAsync(waiter.Following, expiry.Token))
                    {
                        aborted.ThrowIfCancellationRequested();
                        return answer;
                    }

                    (answer, news) = await ReadAsync(log, channels, since, maxMessages, readPresence, readTyping, aborted);
                }

                if (news || expiry.IsCancellationRequested)
                    return answer;

                woken = await waiter.WaitAsync(expiry.Token);
                if (woken is null)
                {
                    aborted.ThrowIfCancellationRequested();
                    return answer;
                }
            }

            // The node hands each held poll the channel's next publication, in order: a poll that
            // was current answers with it, with no read of the log — 1,000 polls held on a channel
            // cost no store read per publication.
            if (woken is Publication publication && answer.TryAnswerWith(publication) is { } next)
                return next;

            // Woken by a reset, or by a publication this poll is not right before (it read past
            // it, or fell behind): read again from the positions already resolved (a "from now"
            // channel keeps the top it was given on the first read).
            since = answer.Positions();
        }
    }

    /// <summary>One read of the log, presence and typing: the answer so far and whether it has news.</summary>
    private static async Task<(PollAnswer Answer, bool News)> ReadAsync(
        IChannelLog log,
        IReadOnlyList<string> channels,
        Position?[] since,
        int maxMessages,
        Func<CancellationToken, Task<(Dictionary<string, byte[]>? Part, bool News)>>? readPresence,
        Func<(Dictionary<string, byte[]> Part, bool News)>? readTyping,
        CancellationToken aborted)
    {
        var answer = await PollReader.ReadAsync(log, channels, since, maxMessages, aborted);
        var (presencePart, presenceNews) = readPresence is null ? (null, false) : await readPresence(aborted);
        var (typingPart, typingNews) = readTyping is null ? (null, false) : readTyping();
        answer = answer.WithParts(presencePart, typingPart);
        return (answer, answer.HasNews || presenceNews || typingNews);
    }

    /// <summary>Waits until the node follows the poll's channels: false when <paramref name="expiry"/> came first; a failure to follow is thrown.</summary>
    private static async Task<bool> FollowedAsync(Task following, CancellationToken expiry)
    {
        try
        {
            await following.WaitAsync(expiry);
            return true;
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !following.IsCanceled)
        {
            return false;
        }
    }

    /// <summary>
    /// When the poll asked for presence: reads each channel's presence part (renewing the poller's
    /// lease, <paramref name="lease"/>: the wait, the leave grace and a margin for the next poll).
    /// </summary>
    private static Func<CancellationToken, Task<(Dictionary<string, byte[]>? Part, bool News)>>? PresenceReader(Presence.PresenceService presence, SubscriptionRequest request, TimeSpan lease)
    {
        if (request.Presence is not { } asked)
            return null;
        return async cancellationToken =>
        {
            var part = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var news = false;
            foreach (var channel in request.Channels)
            {
                var mode = presence.Allowed(channel, request.Caller, asked);
                var (json, channelNews) = await presence.PollAsync(channel, request.Caller, mode, request.PresencePositionOf(channel), lease, cancellationToken);
                if (json is not null)
                    part[channel] = json;
                news |= channelNews;
            }

            return (part, news);
        };
    }

    /// <summary>
    /// When the poll named typing sets (<c>?typing=&lt;tag&gt;.&lt;channel&gt;</c>): each such channel's current
    /// set, on namespaces with typing; news when a set is not the one the poller has.
    /// </summary>
    private static Func<(Dictionary<string, byte[]> Part, bool News)>? TypingReader(Typing.TypingService typing, HeraldOptions settings, SubscriptionRequest request)
    {
        if (request.TypingSeen is not { } seen)
            return null;
        return () =>
        {
            var part = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var news = false;
            foreach (var (channel, tag) in seen)
            {
                var policy = settings.PolicyFor(channel);
                if (!policy.Typing)
                    continue;
                var (json, current) = typing.PollPart(channel, policy.TypingListLimit);
                part[channel] = json;
                news |= !string.Equals(current, tag, StringComparison.Ordinal);
            }

            return (part, news);
        };
    }

    /// <summary>
    /// <c>wait=0</c>: one read, answered at once. On one channel the answer carries an ETag of
    /// (the channel's log state, the request's position), so a client repeating an empty poll
    /// with <c>If-None-Match</c> gets a bodiless 304 until something changes.
    /// </summary>
    private static async Task<IResult> ShortPollAsync(HttpContext context, IChannelLog log, SubscriptionRequest request, Position?[] since, int maxMessages)
    {
        var aborted = context.RequestAborted;
        if (request.Channels.Count != 1)
            return await PollReader.ReadAsync(log, request.Channels, since, maxMessages, aborted);

        var channel = request.Channels[0];
        var headers = context.Response.Headers;
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            var etag = ETagOf(await log.GetStateAsync(channel, aborted), channel, since[0]);
            if (EntityTags.IfNoneMatch(ifNoneMatch, etag))
            {
                headers.ETag = etag;
                return TypedResults.StatusCode(StatusCodes.Status304NotModified);
            }
        }

        var answer = await PollReader.ReadAsync(log, request.Channels, since, maxMessages, aborted);
        headers.ETag = ETagOf(answer.Channels[0].State, channel, since[0]);
        return answer;
    }

    /// <summary>
    /// <c>"&lt;epoch&gt;-&lt;first&gt;-&lt;top&gt;.&lt;cursor&gt;"</c>: the history ETag of the channel's state, then the
    /// request's position as a cursor token (empty for "from now"). Unambiguous: first and top are
    /// digits, and neither an epoch nor a cursor contains a dot.
    /// </summary>
    internal static string ETagOf(StreamState state, string channel, Position? since)
    {
        var history = EntityTags.OfHistory(state);
        var cursor = since is { } position ? Herald.Channels.Cursor.Encode(channel, position) : string.Empty;
        return string.Concat(history.AsSpan(0, history.Length - 1), ".", cursor, "\"");
    }

    private static bool TryParseWait(StringValues values, TransportOptions transports, out int wait)
    {
        wait = transports.DefaultPollWaitSeconds;
        if (values.Count == 0)
            return true;

        return values.Count == 1
            && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out wait)
            && wait <= transports.MaxPollWaitSeconds;
    }
}
