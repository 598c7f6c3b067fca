using System.Security.Cryptography;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Herald.Http.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// <c>/v1/webhooks/subscriptions</c>: create, list, read, change and remove outbound webhook
/// subscriptions. Server API keys only.
/// </summary>
internal static class SubscriptionEndpoints
{
    /// <summary>64 KiB: a URL, 32 patterns and a description need a few; anything larger is not a subscription.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public const int MaxDescriptionLength = 256;

    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/webhooks/subscriptions").WithTags("Webhooks")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithAuth(ApiAuth.ServerKey);
        group.MapPost("", CreateAsync)
            .WithName("CreateWebhookSubscription")
            .WithSummary("Subscribe an HTTP endpoint to the publications (or presence events) of channels; answers the generated signing secret once")
            .Accepts<SubscriptionRequest>("application/json")
            .Produces<SubscriptionResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapGet("", ListAsync)
            .WithName("ListWebhookSubscriptions")
            .WithSummary("List webhook subscriptions")
            .Produces<SubscriptionListResponse>();
        group.MapGet("/{id}", GetAsync)
            .WithName("GetWebhookSubscription")
            .WithSummary("Read one webhook subscription")
            .Produces<SubscriptionResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id}", UpdateAsync)
            .WithName("UpdateWebhookSubscription")
            .WithSummary("Change a webhook subscription's URL, channels, event types, ordering or description, or enable and disable it")
            .Accepts<SubscriptionRequest>("application/json")
            .Produces<SubscriptionResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteWebhookSubscription")
            .WithSummary("Remove a webhook subscription and its deliveries")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>Null when the caller holds a server API key, else the problem to answer.</summary>
    internal static async Task<IResult?> DenyAsync(HttpContext context, Authenticator authenticator) =>
        AccessCheck.Check(Access.ServerOnly, await authenticator.IdentifyAsync(context.Request), "manage webhooks");

    internal static IResult NotFound(string id) =>
        Problems.Make(404, "subscription_not_found", "No such subscription", $"There is no webhook subscription '{id}'.");

    private static async Task<IResult> CreateAsync(
        HttpContext context, Authenticator authenticator, IWebhookSubscriptionStore store, IOptions<HeraldOptions> options, TimeProvider time)
    {
        if (await DenyAsync(context, authenticator) is { } denied)
            return denied;
        var outbound = options.Value.Webhooks.Outbound;
        var (request, problem) = await ReadAsync(context);
        if (problem is not null)
            return problem;
        if (request!.Url is null || request.Channels is null)
            return Problems.InvalidBody("'url' and 'channels' are required.");
        if (Validate(request, outbound, out var url, out var channels, out var events) is { } invalid)
            return invalid;
        if (request.Secret is { } secret && ValidateSecret(secret) is { } badSecret)
            return badSecret;

        var now = time.GetUtcNow();
        var subscription = new WebhookSubscription(
            NewId(),
            url!,
            channels!,
            request.Secret ?? StandardWebhooksSignature.NewSecret(),
            request.Enabled ?? true,
            request.Ordered ?? false,
            request.Description,
            now,
            now,
            DisabledReason: null)
        {
            Events = events ?? WebhookEventTypes.Default,
        };
        if (!await store.CreateAsync(subscription, outbound.MaxSubscriptions, context.RequestAborted))
        {
            return Problems.Make(409, "too_many_subscriptions", "Too many subscriptions",
                $"There are {outbound.MaxSubscriptions} webhook subscriptions already (Herald:Webhooks:Outbound:MaxSubscriptions).");
        }

        return TypedResults.Json(
            SubscriptionResponse.From(subscription, withSecret: true),
            WebhookApiJsonContext.Default.SubscriptionResponse,
            statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext context, Authenticator authenticator, IWebhookSubscriptionStore store)
    {
        if (await DenyAsync(context, authenticator) is { } denied)
            return denied;
        var all = await store.ListAsync(context.RequestAborted);
        return TypedResults.Json(new SubscriptionListResponse([.. all.Select(s => SubscriptionResponse.From(s))]), WebhookApiJsonContext.Default.SubscriptionListResponse);
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, Authenticator authenticator, IWebhookSubscriptionStore store)
    {
        if (await DenyAsync(context, authenticator) is { } denied)
            return denied;
        return await store.GetAsync(id, context.RequestAborted) is { } subscription
            ? TypedResults.Json(SubscriptionResponse.From(subscription), WebhookApiJsonContext.Default.SubscriptionResponse)
            : NotFound(id);
    }

    private static async Task<IResult> UpdateAsync(
        string id, HttpContext context, Authenticator authenticator, IWebhookSubscriptionStore store, IOptions<HeraldOptions> options)
    {
        if (await DenyAsync(context, authenticator) is { } denied)
            return denied;
        var (request, problem) = await ReadAsync(context);
        if (problem is not null)
            return problem;
        if (request!.Secret is not null)
            return Problems.InvalidBody("The secret cannot be changed; create a new subscription to rotate it.");
        if (Validate(request, options.Value.Webhooks.Outbound, out var url, out var channels, out var events) is { } invalid)
            return invalid;

        var patch = new SubscriptionPatch(url, channels, request.Enabled, request.Ordered, request.Description, events);
        return await store.UpdateAsync(id, patch, context.RequestAborted) is { } updated
            ? TypedResults.Json(SubscriptionResponse.From(updated), WebhookApiJsonContext.Default.SubscriptionResponse)
            : NotFound(id);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, Authenticator authenticator, IWebhookSubscriptionStore store)
    {
        if (await DenyAsync(context, authenticator) is { } denied)
            return denied;
        return await store.DeleteAsync(id, context.RequestAborted) ? TypedResults.NoContent() : NotFound(id);
    }

    private static async Task<(SubscriptionRequest? Request, IResult? Problem)> ReadAsync(HttpContext context)
    {
        if (!RequestBody.IsJson(context.Request.ContentType))
            return (null, Problems.UnsupportedMediaType(context.Request.ContentType));
        if (context.Request.ContentLength > MaxBodyBytes)
            return (null, Problems.Make(413, "message_too_large", "Message too large", $"The request body is larger than {MaxBodyBytes} bytes."));
        var (body, read) = await RequestBody.ReadArrayAsync(context, MaxBodyBytes);
        if (read.Status == BodyStatus.Unreadable)
            return (null, RequestBody.Unreadable(read));
        if (body is null)
            return (null, Problems.Make(413, "message_too_large", "Message too large", $"The request body is larger than {MaxBodyBytes} bytes."));
        try
        {
            var request = JsonSerializer.Deserialize(body, WebhookApiJsonContext.Default.SubscriptionRequest);
            return request is null ? (null, Problems.InvalidBody("The body must be a JSON object.")) : (request, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.InvalidBody($"The body is not a subscription object: {e.Message}"));
        }
    }

    /// <summary>Checks the members that are present; the normalized URL, patterns and event types, or the problem.</summary>
    private static IResult? Validate(
        SubscriptionRequest request, OutboundWebhookOptions options, out string? url, out IReadOnlyList<string>? channels, out IReadOnlyList<string>? events)
    {
        url = null;
        channels = null;
        events = null;
        if (request.Url is not null && !TargetGuard.TryValidateUrl(request.Url, options, out url, out var code, out var error))
            return Problems.Make(400, code, code == "target_not_allowed" ? "Target not allowed" : "Invalid URL", error);

        if (request.Channels is { } patterns)
        {
            if (patterns.Count == 0 || patterns.Count > options.MaxChannelPatterns)
                return InvalidPattern($"'channels' needs 1 to {options.MaxChannelPatterns} channel patterns.");
            foreach (var pattern in patterns)
            {
                if (!ChannelPattern.TryParse(pattern, out _, out var patternError))
                    return InvalidPattern(patternError);
            }

            channels = [.. patterns.Distinct(StringComparer.Ordinal)];
        }

        if (request.Events is { } types)
        {
            if (types.Count == 0)
                return InvalidEvent($"'events' needs at least one of {Known}.");
            foreach (var type in types)
            {
                if (!WebhookEventTypes.IsKnown(type))
                    return InvalidEvent($"'{type}' is not an event type; the types are {Known}.");
            }

            events = [.. types.Distinct(StringComparer.Ordinal)];
        }

        if (request.Description is { Length: > MaxDescriptionLength })
            return Problems.InvalidBody($"'description' is longer than {MaxDescriptionLength} characters.");
        return null;
    }

    private static IResult? ValidateSecret(string secret) =>
        secret.StartsWith(StandardWebhooksSignature.SecretPrefix, StringComparison.Ordinal)
        && StandardWebhooksSignature.DecodeSecret(secret) is { Length: >= StandardWebhooksSignature.MinSecretBytes and <= 64 }
            ? null
            : Problems.InvalidBody($"'secret' must be 'whsec_' followed by the base64 of {StandardWebhooksSignature.MinSecretBytes} to 64 random bytes; leave it out to have one generated.");

    private static string Known => string.Join(", ", WebhookEventTypes.All.Select(t => $"'{t}'"));

    private static IResult InvalidEvent(string detail) => Problems.Make(400, "invalid_event_type", "Invalid event type", detail);

    private static IResult InvalidPattern(string detail) => Problems.Make(400, "invalid_channel_pattern", "Invalid channel pattern", detail);

    /// <summary><c>sub_</c> and 20 base32 characters: 100 random bits.</summary>
    private static string NewId() => "sub_" + RandomNumberGenerator.GetString(Base32, 20);
}
