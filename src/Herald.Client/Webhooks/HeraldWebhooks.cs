using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Client.Internal;

namespace Herald.Client.Webhooks;

/// <summary>
/// Outbound webhook subscriptions and their deliveries: <c>/v1/webhooks/subscriptions</c> and
/// <c>/v1/webhooks/deliveries</c> (docs/webhooks.md). Server API keys only (<see cref="HeraldClientOptions.ApiKey"/>).
/// </summary>
public sealed class HeraldWebhooks
{
    private static readonly HttpMethod Patch = new("PATCH");
    private readonly HttpApi http;

    internal HeraldWebhooks(HttpApi http) => this.http = http;

    /// <summary>Subscribes a URL to channels; the answer carries the signing secret (only here).</summary>
    public Task<WebhookSubscription> CreateAsync(WebhookSubscriptionRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/webhooks/subscriptions", Body(request), WebhookJsonContext.Default.WebhookSubscription, cancellationToken);

    /// <summary>Every subscription.</summary>
    public async Task<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, "v1/webhooks/subscriptions", null, WebhookJsonContext.Default.WebhookSubscriptionList, cancellationToken).ConfigureAwait(false)).Subscriptions;

    /// <summary>One subscription (<c>subscription_not_found</c> when there is none).</summary>
    public Task<WebhookSubscription> GetAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/webhooks/subscriptions/" + Uri.EscapeDataString(id), null, WebhookJsonContext.Default.WebhookSubscription, cancellationToken);

    /// <summary>Changes the members set in <paramref name="changes"/>.</summary>
    public Task<WebhookSubscription> UpdateAsync(string id, WebhookSubscriptionRequest changes, CancellationToken cancellationToken = default) =>
        SendAsync(Patch, "v1/webhooks/subscriptions/" + Uri.EscapeDataString(id), Body(changes with { Secret = null }), WebhookJsonContext.Default.WebhookSubscription, cancellationToken);

    /// <summary>Removes a subscription and its deliveries.</summary>
    public async Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        var (response, _) = await http.SendJsonAsync(HttpMethod.Delete, "v1/webhooks/subscriptions/" + Uri.EscapeDataString(id), null, cancellationToken).ConfigureAwait(false);
        response.Dispose();
    }

    /// <summary>Deliveries, newest first, each with its attempts.</summary>
    public Task<WebhookDeliveryPage> ListDeliveriesAsync(WebhookDeliveryQuery? query = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        void Add(string name, string? value)
        {
            if (value is not null)
                parameters.Add(new(name, value));
        }

        Add("subscription", query?.Subscription);
        Add("status", query?.Status);
        Add("channel", query?.Channel);
        Add("before", query?.Before?.ToString(CultureInfo.InvariantCulture));
        Add("limit", query?.Limit?.ToString(CultureInfo.InvariantCulture));
        return SendAsync(HttpMethod.Get, "v1/webhooks/deliveries" + HttpApi.Query(parameters), null, WebhookJsonContext.Default.WebhookDeliveryPage, cancellationToken);
    }

    /// <summary>One delivery.</summary>
    public Task<WebhookDelivery> GetDeliveryAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "v1/webhooks/deliveries/" + id.ToString(CultureInfo.InvariantCulture), null, WebhookJsonContext.Default.WebhookDelivery, cancellationToken);

    /// <summary>Delivers again now, with the same <c>webhook-id</c> and a fresh retry schedule.</summary>
    public Task<WebhookDelivery> ReplayAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/webhooks/deliveries/{id.ToString(CultureInfo.InvariantCulture)}/replay", null, WebhookJsonContext.Default.WebhookDelivery, cancellationToken);

    private static byte[] Body(WebhookSubscriptionRequest request) =>
        JsonSerializer.SerializeToUtf8Bytes(request ?? throw new ArgumentNullException(nameof(request)), WebhookJsonContext.Default.WebhookSubscriptionRequest);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var (response, answer) = await http.SendJsonAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            try
            {
                return JsonSerializer.Deserialize(answer ?? [], typeInfo) ?? throw HeraldException.Invalid("an empty answer");
            }
            catch (JsonException e)
            {
                throw HeraldException.Invalid(e.Message);
            }
        }
    }
}
