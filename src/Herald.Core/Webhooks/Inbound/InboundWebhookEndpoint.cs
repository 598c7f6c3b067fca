using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.Auth;
using Herald.Http;
using Herald.Http.OpenApi;
using Herald.Publishing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Webhooks.Inbound;

/// <summary>
/// <c>POST /v1/webhooks/in/{source}</c>: verifies a delivery on its raw body with the source's scheme,
/// drops redeliveries by delivery id (the channel log's idempotency, durable in SQLite) and appends
/// the body to the source's channel like any publication.
/// </summary>
internal sealed partial class InboundWebhookEndpoint(
    IOptions<HeraldOptions> options,
    PublishService publisher,
    TimeProvider time,
    ILogger<InboundWebhookEndpoint> logger)
{
    /// <summary>The <c>from</c> of webhook publications is this prefix and the source name.</summary>
    public const string FromPrefix = "webhook:";

    /// <summary>The <c>type</c> of webhook publications whose scheme carries no event type.</summary>
    public const string DefaultType = "webhook";

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PreparedSource> prepared = new(StringComparer.Ordinal);

    public static void AddServices(IServiceCollection services) => services.AddSingleton<InboundWebhookEndpoint>();

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/webhooks/in/{source}", (string source, HttpContext context, InboundWebhookEndpoint endpoint) => endpoint.HandleAsync(source, context))
            .WithTags("Webhooks")
            .WithName("InboundWebhook")
            .WithSummary("Receive a signed webhook delivery and publish it to the source's channel")
            .WithDescription("The body is verified as it arrived (raw bytes) with the source's scheme (Herald:Webhooks:Sources): Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), GitHub (X-Hub-Signature-256, X-GitHub-Delivery, X-GitHub-Event), Stripe (Stripe-Signature) or an API key (Authorization: Bearer or X-Api-Key, with Idempotency-Key or X-Delivery-Id). docs/webhooks.md")
            // Described, not declared with Accepts: that would make routing refuse other media types
            // with a bare 415 before the source's verifier sees the delivery.
            .WithMetadata(new ApiRequestBody("The delivery as the sender signed it; most senders post JSON, GitHub may post a form.", ["application/json", "application/x-www-form-urlencoded"]))
            .Produces<WebhookResponse>(StatusCodes.Status202Accepted)
            .Produces<WebhookResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithAuth(ApiAuth.None);

    public async Task<IResult> HandleAsync(string source, HttpContext context)
    {
        var settings = options.Value;
        if (!settings.Webhooks.Sources.TryGetValue(source, out var config) || config.Scheme is not { } scheme)
            return Reject("(unknown)", 404, "unknown_source", "Unknown webhook source", $"No webhook source '{source}' is configured.");

        var request = context.Request;
        if (request.ContentLength > config.MaxBodyBytes)
            return TooLarge(source, config.MaxBodyBytes);

        // Verified, parsed and published where it lies in the request's pipe: the publish service
        // makes the one copy of it, into what is stored.
        var reader = request.BodyReader;
        var read = await RequestBody.BufferAsync(context, config.MaxBodyBytes);
        if (read.Status == BodyStatus.TooLarge)
            return TooLarge(source, config.MaxBodyBytes);
        if (read.Status == BodyStatus.Unreadable)
        {
            // Logged by RequestBody (throttled: anyone may send these), not once more per request here.
            WebhookMetrics.InboundRejections.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("reason", "invalid_body"));
            return RequestBody.Unreadable(read);
        }

        var body = read.Body;

        try
        {
            return await HandleBodyAsync(source, config, scheme, context, body);
        }
        finally
        {
            reader.AdvanceTo(body.End);
        }
    }

    private async Task<IResult> HandleBodyAsync(string source, WebhookSourceOptions config, WebhookScheme scheme, HttpContext context, ReadOnlySequence<byte> body)
    {
        var prepared = Prepare(source, config, scheme);
        var verifier = prepared.Verifier;
        var headers = context.Request.Headers;
        var verification = verifier.Verify(
            name => headers.TryGetValue(name, out var value) ? value.ToString() : null,
            body,
            prepared.Keys,
            config.Tolerance,
            time.GetUtcNow());
        switch (verification.Outcome)
        {
            case WebhookOutcome.InvalidSignature:
                return Reject(source, 401, "invalid_signature", "Invalid webhook signature", verification.Detail);
            case WebhookOutcome.StaleTimestamp:
                return Reject(source, 401, "stale_timestamp", "Stale webhook timestamp", verification.Detail);
            case WebhookOutcome.Valid:
            default:
                break;
        }

        // Parsed for what the template and the scheme read from it (channel, event type, delivery
        // id); the publish service checks it as data and refuses what is not I-JSON.
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = JsonData.MaxDepth });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            return Reject(source, 400, "invalid_body", "Invalid request body", $"The body is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (prepared.Template is not { } template)
                return Reject(source, 400, "invalid_channel", "Invalid channel name", prepared.TemplateError);

            // Reading names and strings unescapes them, which throws on an unpaired surrogate escape
            // anywhere on the way — in a member name the template walks past, too ({"\udfff":1}).
            string channel;
            string channelError;
            bool filled;
            try
            {
                verification = verifier.Describe(verification, root);
                filled = template.TryFill(root, out channel, out channelError);
            }
            catch (InvalidOperationException)
            {
                return Reject(source, 400, "invalid_body", "Invalid request body", "The body is not valid Unicode text (invalid UTF-8 or an unpaired surrogate escape).");
            }

            if (!filled)
                return Reject(source, 400, "invalid_channel", "Invalid channel name", channelError);

            var deliveryId = verification.DeliveryId;
            if (deliveryId is not null && !PublishService.IsValidIdempotencyKey(deliveryId))
            {
                return Reject(source, 400, "invalid_header", "Invalid request header",
                    $"The delivery id must be 1 to {PublishService.MaxIdempotencyKeyLength} printable ASCII characters.");
            }

            var result = await publisher.PublishAsync(
                new PublishRequest
                {
                    Channel = channel,
                    // The signature proved the sender: the source's channel takes its deliveries
                    // whatever the namespace's publish access.
                    Caller = Caller.Server,
                    Data = body,
                    Type = TypeOf(verification.EventType),
                    IdempotencyKey = deliveryId is null ? null : $"webhook:{source}:{deliveryId}",
                    From = FromPrefix + source,
                    Meta = MetaOf(source, deliveryId),
                    IdempotencyWindow = config.DedupeWindow,
                    MaxDataBytes = config.MaxBodyBytes,
                },
                context.RequestAborted);

            switch (result.Error)
            {
                case PublishError.None:
                    break;
                case PublishError.TooLarge:
                    return TooLarge(source, config.MaxBodyBytes);
                case PublishError.EngineUnavailable:
                    context.Response.Headers.RetryAfter = "1";
                    Log.Rejected(logger, source, 503, "engine_unavailable", result.Message);
                    return Problems.EngineUnavailable(result.Message);
                case PublishError.IdempotencyKeyReused:
                    return Reject(source, 422, "idempotency_key_reused", "Idempotency key reused",
                        $"Delivery {deliveryId} was received before with a different body: a sender reuses a delivery id only for a retry.");
                case PublishError.InvalidChannel:
                    return Reject(source, 400, "invalid_channel", "Invalid channel name", result.Message);
                case var error when ActionErrors.Of(error) is { } action:
                    return Reject(source, action.Status, action.Code, action.Title, result.Message);
                default:
                    return Reject(source, 400, "invalid_body", "Invalid request body", result.Message);
            }

            var publication = result.Publication!;
            WebhookMetrics.InboundAccepted.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("outcome", result.Duplicate ? "duplicate" : "published"));
            if (result.Duplicate)
                Log.Duplicate(logger, source, deliveryId);

            var response = new WebhookResponse(
                publication.Channel,
                publication.Offset,
                publication.Epoch,
                publication.Id,
                deliveryId,
                result.Duplicate ? true : null);
            return TypedResults.Json(
                response,
                InboundWebhookJsonContext.Default.WebhookResponse,
                statusCode: result.Duplicate ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
        }
    }

    /// <summary>A source's decoded keys and parsed template, computed once (the options are fixed after start).</summary>
    private PreparedSource Prepare(string source, WebhookSourceOptions config, WebhookScheme scheme) =>
        prepared.GetOrAdd(source, static (_, arguments) =>
        {
            var (config, scheme) = arguments;
            var verifier = WebhookVerifiers.For(scheme);
            var template = ChannelTemplate.Parse(config.Channel, out var templateError);
            return new PreparedSource(verifier, [.. config.Secrets.Select(verifier.DecodeSecret).OfType<byte[]>()], template, templateError);
        }, (config, scheme));

    private sealed record PreparedSource(IWebhookVerifier Verifier, IReadOnlyList<byte[]> Keys, ChannelTemplate? Template, string TemplateError);

    /// <summary>The publication's type: the sender's event type, cut to 64 characters — never between the halves of a surrogate pair.</summary>
    internal static string TypeOf(string? eventType)
    {
        if (string.IsNullOrEmpty(eventType))
            return DefaultType;
        if (eventType.Length <= PublishService.MaxTypeLength)
            return eventType;
        var cut = char.IsHighSurrogate(eventType[PublishService.MaxTypeLength - 1]) ? PublishService.MaxTypeLength - 1 : PublishService.MaxTypeLength;
        return eventType[..cut];
    }

    /// <summary>The publication's <c>meta</c>: <c>{"source":"github","deliveryId":"72d3…"}</c> (no <c>deliveryId</c> when the scheme has none).</summary>
    internal static byte[] MetaOf(string source, string? deliveryId)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("source", source);
            if (deliveryId is not null)
                writer.WriteString("deliveryId", deliveryId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private IResult TooLarge(string source, int limit) =>
        Reject(source, 413, "message_too_large", "Message too large", $"The request body is larger than this source's limit of {limit} bytes.");

    private IResult Reject(string source, int status, string code, string title, string detail)
    {
        WebhookMetrics.InboundRejections.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("reason", code));
        Log.Rejected(logger, source, status, code, detail);
        return Problems.Make(status, code, title, detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1700, Level = LogLevel.Information, Message = "Webhook from source {Source} rejected with {Status} {Code}: {Detail}")]
        public static partial void Rejected(ILogger logger, string source, int status, string code, string detail);

        [LoggerMessage(EventId = 1701, Level = LogLevel.Debug, Message = "Webhook from source {Source}: delivery {DeliveryId} already received")]
        public static partial void Duplicate(ILogger logger, string source, string? deliveryId);
    }
}

/// <summary>The answer to a webhook delivery: where it went (202), or where it had gone (200, <c>duplicate</c>).</summary>
public sealed record WebhookResponse(string Channel, long Offset, string Epoch, string Id, string? DeliveryId, bool? Duplicate);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookResponse))]
internal sealed partial class InboundWebhookJsonContext : JsonSerializerContext;
