using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>The outbound webhook API as a test drives it, and an independent Standard Webhooks check.</summary>
internal static class WebhookApi
{
    public static async Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }

    /// <summary>Creates a subscription and returns its answer (with the secret); fails the test unless 201.</summary>
    public static async Task<JsonElement> SubscribeAsync(this HttpClient client, string url, string[] channels, bool? ordered = null, bool? enabled = null, string[]? events = null)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["url"] = url,
            ["channels"] = channels,
            ["ordered"] = ordered,
            ["enabled"] = enabled,
            ["events"] = events,
        }.Where(p => p.Value is not null).ToDictionary());
        using var response = await client.PostJsonAsync("v1/webhooks/subscriptions", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"subscribe answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The deliveries of <paramref name="subscription"/>, oldest first.</summary>
    public static async Task<List<JsonElement>> DeliveriesAsync(this HttpClient client, string subscription)
    {
        var page = await client.GetJsonAsync($"v1/webhooks/deliveries?subscription={subscription}&limit=1000");
        return [.. page.GetProperty("deliveries").EnumerateArray().Reverse()];
    }

    /// <summary>Polls the deliveries of <paramref name="subscription"/> until <paramref name="condition"/> holds.</summary>
    public static async Task<List<JsonElement>> WaitForDeliveriesAsync(this HttpClient client, string subscription, Func<List<JsonElement>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var deliveries = await client.DeliveriesAsync(subscription);
            if (condition(deliveries))
                return deliveries;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"deliveries of {subscription} never showed {what}: {JsonSerializer.Serialize(deliveries)}");
            await Task.Delay(50);
        }
    }

    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    /// <summary>Standard Webhooks verification written from the specification, independently of Herald's signer.</summary>
    public static bool SignatureVerifies(ReceivedWebhook received, string secret)
    {
        if (received.Id is null || received.Timestamp is null || received.Signature is null)
            return false;
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{received.Id}.{received.Timestamp}.").Concat(received.Body).ToArray();
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
        return received.Signature.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }
}
