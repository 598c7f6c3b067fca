using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Http;
using Herald.Publishing;

namespace Herald.IntegrationTests.Actions;

/// <summary>Publishing actions over HTTP, reading <c>view=latest</c>, and folding what a client received.</summary>
internal static class Actions
{
    public static async Task<long> PostAsync(this HttpClient client, string channel, string data, string? type = null)
    {
        using var response = await client.SendAsync(channel, data, type);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"publish to {channel} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("offset").GetInt64();
    }

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, string channel, string data, string? type = null) =>
        client.PublishAsync(channel, type is null ? $$"""{"data":{{data}}}""" : $$"""{"data":{{data}},"type":"{{type}}"}""");

    public static Task<long> EditAsync(this HttpClient client, string channel, long target, string data) =>
        client.PostAsync(channel, $$"""{"ref":{{target}},"data":{{data}}}""", "herald.edit");

    public static Task<long> DeleteAsync(this HttpClient client, string channel, long target) =>
        client.PostAsync(channel, $$"""{"ref":{{target}}}""", "herald.delete");

    public static Task<long> ReactAsync(this HttpClient client, string channel, long target, string key) =>
        client.PostAsync(channel, $$"""{"ref":{{target}},"key":"{{key}}"}""", "herald.react");

    public static Task<long> UnreactAsync(this HttpClient client, string channel, long target, string key) =>
        client.PostAsync(channel, $$"""{"ref":{{target}},"key":"{{key}}"}""", "herald.unreact");

    /// <summary>Asserts a refused publish's status and problem <c>code</c>; returns its detail.</summary>
    public static async Task<string> RefusedAsync(this HttpClient client, string channel, string data, string? type, HttpStatusCode status, string code)
    {
        using var response = await client.SendAsync(channel, data, type);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return problem.GetProperty("detail").GetString()!;
    }

    public static Task<JsonElement> LatestAsync(this HttpClient client, string channel, string query = "") =>
        client.HistoryAsync(channel, "?view=latest" + (query.Length > 0 ? "&" + query : string.Empty));

    /// <summary>A publication pushed or read as JSON, back as the engine's object.</summary>
    public static Publication ToPublication(JsonElement json) => new()
    {
        Channel = json.GetProperty("channel").GetString()!,
        Offset = json.GetProperty("offset").GetInt64(),
        Epoch = json.GetProperty("epoch").GetString()!,
        Id = json.GetProperty("id").GetString()!,
        Time = json.GetProperty("time").GetDateTimeOffset(),
        From = json.TryGetProperty("from", out var from) ? from.GetString() : null,
        Type = json.TryGetProperty("msgType", out var type) ? type.GetString() : null,
        Meta = json.TryGetProperty("meta", out var meta) ? Encoding.UTF8.GetBytes(meta.GetRawText()) : default,
        Data = Encoding.UTF8.GetBytes(json.GetProperty("data").GetRawText()),
        N = json.TryGetProperty("n", out var n) ? n.GetInt64() : 0,
        Countable = json.TryGetProperty("n", out _),
    };

    /// <summary>What the server's <c>view=latest</c> would answer for <paramref name="publications"/>: their fold, encoded as the server encodes it.</summary>
    public static string Encode(IEnumerable<Publication> publications, Channels.ChannelPolicy policy)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var message in LatestView.Fold(publications, policy))
                LatestViewEncoder.WriteMessage(writer, message);
            writer.WriteEndArray();
        }

        // Re-written as PublicationsText writes the server's, so escaping choices cannot differ.
        return JsonSerializer.Serialize(JsonDocument.Parse(buffer.WrittenMemory).RootElement);
    }

    /// <summary>The <c>publications</c> of a history answer as compact JSON text.</summary>
    public static string PublicationsText(JsonElement history) =>
        JsonSerializer.Serialize(history.GetProperty("publications"));

    /// <summary>The folded message at <paramref name="offset"/> of a <c>view=latest</c> answer.</summary>
    public static JsonElement Message(JsonElement history, long offset) =>
        history.GetProperty("publications").EnumerateArray().Single(p => p.GetProperty("offset").GetInt64() == offset);

    public static string Reactions(JsonElement message) =>
        message.TryGetProperty("reactions", out var reactions)
            ? string.Join(" ", reactions.EnumerateArray().Select(r =>
                $"{r.GetProperty("key").GetString()}={r.GetProperty("count").GetInt32()}[{string.Join(",", r.GetProperty("users").EnumerateArray().Select(u => u.GetString()))}]"))
            : string.Empty;

    /// <summary>Polls until <paramref name="condition"/> holds of the channel's raw history (60 s at most).</summary>
    public static async Task<JsonElement> WaitForHistoryAsync(this HttpClient client, string channel, Func<List<JsonElement>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var history = await client.HistoryAsync(channel, "?limit=1000");
            if (condition([.. history.GetProperty("publications").EnumerateArray()]))
                return history;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what} on {channel}");
            await Task.Delay(50);
        }
    }
}
