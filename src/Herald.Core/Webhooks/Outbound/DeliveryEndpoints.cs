using System.Globalization;
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
/// <c>/v1/webhooks/deliveries</c>: the outbox as the operator sees it — every delivery with its
/// attempts, newest first — and replay of one delivery. Server API keys only.
/// </summary>
internal static class DeliveryEndpoints
{
    public const int DefaultLimit = 100;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/webhooks/deliveries").WithTags("Webhooks")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithAuth(ApiAuth.ServerKey);
        group.MapGet("", ListAsync)
            .WithName("ListWebhookDeliveries")
            .WithSummary("List outbound webhook deliveries with their attempts, newest first")
            .Produces<DeliveryListResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithQuery("subscription", "Only this subscription's deliveries.")
            .WithQuery("status", "Only deliveries in this state.", values: ["pending", "delivered", "dead"])
            .WithQuery("channel", "Only deliveries of this channel.")
            .WithQuery("before", "Only deliveries with a smaller id: the nextBefore of the previous page.", ParameterType.Integer, minimum: 1)
            .WithQuery("limit", "At most this many, 1 to Herald:Webhooks:Outbound:MaxPageSize (1000).", ParameterType.Integer, minimum: 1, defaultValue: "100");
        group.MapGet("/{id:long}", GetAsync)
            .WithName("GetWebhookDelivery")
            .WithSummary("Read one outbound webhook delivery with its attempts")
            .Produces<DeliveryResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:long}/replay", ReplayAsync)
            .WithName("ReplayWebhookDelivery")
            .WithSummary("Deliver again, now, with the same webhook-id and a fresh retry schedule")
            .Produces<DeliveryResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListAsync(HttpContext context, Authenticator authenticator, IWebhookOutbox outbox, IOptions<HeraldOptions> options)
    {
        if (await SubscriptionEndpoints.DenyAsync(context, authenticator) is { } denied)
            return denied;

        var maxPage = options.Value.Webhooks.Outbound.MaxPageSize;
        var query = context.Request.Query;
        string? subscription = query["subscription"];
        string? channel = query["channel"];
        DeliveryStatus? status = null;
        if (query["status"].ToString() is { Length: > 0 } statusText)
        {
            var known = Enum.GetValues<DeliveryStatus>().Where(s => DeliveryResponse.NameOf(s) == statusText).ToList();
            if (known.Count == 0)
                return Problems.InvalidQuery("'status' must be 'pending', 'delivered' or 'dead'.");
            status = known[0];
        }

        if (subscription is { Length: 0 or > 64 })
            return Problems.InvalidQuery("'subscription' must be a subscription id.");
        if (channel is not null && !ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidQuery($"'channel': {channelError}");
        if (!TryParse(query["before"], long.MaxValue, out var before) || before < 1)
            return Problems.InvalidQuery("'before' must be a delivery id (a positive integer).");
        if (!TryParse(query["limit"], Math.Min(DefaultLimit, maxPage), out var limit) || limit < 1 || limit > maxPage)
            return Problems.InvalidQuery($"'limit' must be an integer from 1 to {maxPage}.");

        var page = await outbox.ListAsync(new DeliveryQuery(subscription, status, channel, before, (int)limit), context.RequestAborted);
        return TypedResults.Json(
            new DeliveryListResponse([.. page.Deliveries.Select(DeliveryResponse.From)], page.NextBefore),
            WebhookApiJsonContext.Default.DeliveryListResponse);
    }

    private static async Task<IResult> GetAsync(long id, HttpContext context, Authenticator authenticator, IWebhookOutbox outbox)
    {
        if (await SubscriptionEndpoints.DenyAsync(context, authenticator) is { } denied)
            return denied;
        return await outbox.GetAsync(id, context.RequestAborted) is { } delivery
            ? TypedResults.Json(DeliveryResponse.From(delivery), WebhookApiJsonContext.Default.DeliveryResponse)
            : NotFound(id);
    }

    private static async Task<IResult> ReplayAsync(long id, HttpContext context, Authenticator authenticator, IWebhookOutbox outbox)
    {
        if (await SubscriptionEndpoints.DenyAsync(context, authenticator) is { } denied)
            return denied;
        switch (await outbox.ReplayAsync(id, context.RequestAborted))
        {
            case ReplayOutcome.NotFound:
                return NotFound(id);
            case ReplayOutcome.SubscriptionDisabled:
                return Problems.Make(409, "subscription_disabled", "Subscription disabled",
                    $"Delivery {id}'s subscription is disabled; enable it (PATCH {{\"enabled\": true}}) to replay.");
            case ReplayOutcome.Replayed:
            default:
                var delivery = await outbox.GetAsync(id, context.RequestAborted);
                return delivery is null
                    ? NotFound(id)
                    : TypedResults.Json(DeliveryResponse.From(delivery), WebhookApiJsonContext.Default.DeliveryResponse, statusCode: StatusCodes.Status202Accepted);
        }
    }

    private static IResult NotFound(long id) =>
        Problems.Make(404, "delivery_not_found", "No such delivery", $"There is no webhook delivery {id} (it may have passed Herald:Webhooks:Outbound:DeliveryRetention).");

    private static bool TryParse(string? text, long fallback, out long value)
    {
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
