using System.Net;
using System.Text.Json;
using Herald.Hub;
using Herald.Transports.LongPoll;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.IntegrationTests.Transports.LongPoll;

/// <summary>One answer of <c>GET /v1/poll</c>, parsed.</summary>
internal sealed record PollResult(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)
{
    public string Cursor => Body.GetProperty("cursor").GetString()!;

    public bool More => Body.GetProperty("more").GetBoolean();

    public List<JsonElement> Publications => [.. Body.GetProperty("publications").EnumerateArray()];

    public JsonElement Channel(string channel) => Body.GetProperty("channels").GetProperty(channel);

    public bool Recovered(string channel) => Channel(channel).GetProperty("recovered").GetBoolean();

    public long Offset(string channel) => Channel(channel).GetProperty("offset").GetInt64();

    public string Epoch(string channel) => Channel(channel).GetProperty("epoch").GetString()!;

    public string Code => Body.GetProperty("code").GetString()!;
}

internal static class Poll
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Query(IEnumerable<string> channels, string? cursor, int? wait)
    {
        var query = string.Join('&', channels.Select(c => "channel=" + Uri.EscapeDataString(c)));
        if (cursor is not null)
            query += "&cursor=" + cursor;
        if (wait is not null)
            query += "&wait=" + wait.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "v1/poll?" + query;
    }

    public static Task<PollResult> PollAsync(this HttpClient client, string channel, string? cursor = null, int? wait = null, CancellationToken cancellationToken = default) =>
        client.PollAsync([channel], cursor, wait, cancellationToken: cancellationToken);

    public static async Task<PollResult> PollAsync(this HttpClient client, string[] channels, string? cursor = null, int? wait = null, string? ifNoneMatch = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Query(channels, cursor, wait));
        if (ifNoneMatch is not null)
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        var response = await client.SendAsync(request, cancellationToken).WaitAsync(Timeout, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new PollResult(response.StatusCode, body, response);
    }

    /// <summary>Publishes <c>{"data":<paramref name="data"/>}</c> and returns the assigned offset.</summary>
    public static async Task<long> PublishDataAsync(this HttpClient client, string channel, string data)
    {
        using var response = await client.PublishAsync(channel, $$"""{"data":{{data}}}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync()).GetProperty("offset").GetInt64();
    }

    /// <summary>Waits until <paramref name="count"/> polls have read the log, found nothing and wait to be woken.</summary>
    public static async Task WaitUntilWaitingAsync(this TestServer server, int count)
    {
        var waiters = server.Services.GetRequiredService<PollWaiters>();
        var deadline = DateTime.UtcNow + Timeout;
        while (waiters.Waiting != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Expected {count} waiting polls, have {waiters.Waiting}.");
            await Task.Delay(5);
        }
    }

    public static async Task WaitUntilHeldAsync(this TestServer server, int count)
    {
        var limiter = server.Services.GetRequiredService<PollLimiter>();
        var deadline = DateTime.UtcNow + Timeout;
        while (limiter.Held != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Expected {count} held polls, have {limiter.Held}.");
            await Task.Delay(5);
        }
    }

    public static long[] Offsets(this IEnumerable<JsonElement> publications) =>
        [.. publications.Select(p => p.GetProperty("offset").GetInt64())];
}
