using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests;

internal static class HttpJson
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Task<HttpResponseMessage> PublishAsync(this HttpClient client, string channel, string body, string contentType = "application/json", string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channel}/messages")
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request).WaitAsync(Timeout);
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var document = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);
        return document;
    }

    public static async Task<JsonElement> HistoryAsync(this HttpClient client, string channel, string query = "")
    {
        using var response = await client.GetAsync(new Uri($"v1/channels/{channel}/messages{query}", UriKind.Relative)).WaitAsync(Timeout);
        Assert.True(response.IsSuccessStatusCode, $"history answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    /// <summary>Reads a whole channel, page by page.</summary>
    public static async Task<List<JsonElement>> ReadAllAsync(this HttpClient client, string channel)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await client.HistoryAsync(channel, $"?after={after}&limit=1000");
            var items = page.GetProperty("publications").EnumerateArray().ToList();
            if (items.Count == 0)
                return all;
            all.AddRange(items);
            after = items[^1].GetProperty("offset").GetInt64();
        }
    }
}
