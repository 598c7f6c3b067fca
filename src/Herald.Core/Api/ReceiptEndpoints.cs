using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Reading;
using Herald.Receipts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// Receipts over HTTP: the caller's delivered marker (<c>PUT /v1/channels/{channel}/delivered</c>) and
/// a channel's receipts (<c>GET /v1/channels/{channel}/receipts</c>, for pollers: push transports get
/// them as a subscription's snapshot and diffs). docs/protocol.md, "Receipts".
/// </summary>
internal static class ReceiptEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("Unread").RequireCors(HeraldCors.PolicyName);
        v1.MapPut("/channels/{channel}/delivered", DeliveredAsync)
            .WithName("MarkDelivered")
            .WithSummary("Set the caller's delivered marker on a channel with receipts (forward only)")
            .WithDescription("Body (optional): {\"offset\": n (default: the top), \"epoch\": \"…\" (checked when given)}. docs/protocol.md#receipts")
            .Accepts<DeliveredRequest>("application/json")
            .Produces<DeliveredResponse>(StatusCodes.Status200OK)
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status503ServiceUnavailable);

        v1.MapGet("/channels/{channel}/receipts", ReceiptsAsync)
            .WithName("Receipts")
            .WithSummary("A channel's receipts: every member's seen and delivered markers")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .WithAuth(ApiAuth.Policy)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<IResult> DeliveredAsync(string channel, HttpContext context, Authenticator authenticator, UnreadService unread, IOptions<HeraldOptions> options)
    {
        var (user, refused) = await ReadEndpoints.WhoAsync(null, context, authenticator);
        if (refused is not null)
            return refused;
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        if (AccessCheck.Check(options.Value, channel, await authenticator.IdentifyAsync(context.Request), ChannelOperation.Subscribe) is { } denied)
            return denied;

        var (request, invalid) = await ReadEndpoints.ReadBodyAsync(context, ReadingJsonContext.Default.DeliveredRequest, new DeliveredRequest(null, null),
            "The body is empty or {\"offset\": n, \"epoch\": \"…\"}, every member optional.");
        if (invalid is not null)
            return invalid;

        var outcome = await unread.MarkDeliveredAsync(user!, channel, request!.Offset, request.Epoch, context.RequestAborted);
        return outcome.Error switch
        {
            MarkError.None => TypedResults.Json(
                new DeliveredResponse(channel, outcome.Changed, outcome.Marker is { } m ? new ReadMarkerJson(m.Epoch, m.Offset, m.N, m.UpdatedAt.UtcDateTime) : null),
                ReadingJsonContext.Default.DeliveredResponse),
            _ => ReadEndpoints.Refused(outcome.Error, outcome.Message),
        };
    }

    private static async Task<IResult> ReceiptsAsync(string channel, HttpContext context, Authenticator authenticator, ReceiptService receipts, IOptions<HeraldOptions> options)
    {
        if (!ChannelName.TryValidate(channel, out var channelError))
            return Problems.InvalidChannel(channelError);
        var caller = await authenticator.IdentifyAsync(context.Request);
        if (AccessCheck.Check(options.Value, channel, caller, ChannelOperation.Subscribe) is { } denied)
            return denied;
        if (!options.Value.KeepsReceipts(channel))
            return ReadEndpoints.Refused(MarkError.ReceiptsDisabled, UnreadService.ReceiptsOffMessage(channel));

        var members = await receipts.GetAsync(channel, context.RequestAborted);
        return Results.Bytes(ReceiptJson.Answer(channel, members), "application/json");
    }
}
