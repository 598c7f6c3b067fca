using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Transports;

/// <summary>One message of an SSE or NDJSON push response, normalized: SSE's <c>event:</c> or the line's <c>type</c>, its JSON and its cursor.</summary>
/// <param name="Type"><c>subscribed</c>, <c>publication</c>, <c>heartbeat</c>, <c>disconnect</c>.</param>
/// <param name="Json">SSE: the parsed <c>data:</c>; stream: the whole line.</param>
/// <param name="Cursor">SSE: the <c>id:</c> of the event; stream: the line's <c>cursor</c> member; null when absent.</param>
internal sealed record PushMessage(string Type, JsonElement Json, string? Cursor)
{
    public long Offset => Json.GetProperty("offset").GetInt64();

    public string Channel => Json.GetProperty("channel").GetString()!;

    /// <summary>The <c>subscribed</c> entry of <paramref name="channel"/>.</summary>
    public JsonElement Entry(string channel) => Json.GetProperty("channels").GetProperty(channel);
}

/// <summary>
/// A hand-written reader of /v1/sse (the text/event-stream rules: fields, comments, multi-line
/// data, blank-line dispatch) and /v1/stream (one JSON object per line). Every read has a timeout.
/// </summary>
internal sealed class PushClient : IAsyncDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpResponseMessage response;
    private readonly StreamReader reader;

    private PushClient(string transport, HttpResponseMessage response, System.IO.Stream body)
    {
        Transport = transport;
        this.response = response;
        reader = new StreamReader(body, Encoding.UTF8);
    }

    public string Transport { get; }

    public HttpResponseMessage Response => response;

    /// <summary>The SSE <c>retry:</c> value seen so far.</summary>
    public int? Retry { get; private set; }

    /// <summary>SSE comments seen so far (e.g. <c>heartbeat</c>).</summary>
    public List<string> Comments { get; } = [];

    /// <summary>
    /// Opens <c>/v1/{transport}</c> for <paramref name="channels"/>; <paramref name="cursor"/> is sent as
    /// <c>Last-Event-ID</c> for SSE and as <c>?cursor=</c> for the stream (unless <paramref name="cursorInQuery"/>).
    /// </summary>
    /// <param name="extraQuery">More query parameters, already escaped (<c>presence=list</c>).</param>
    public static async Task<PushClient> ConnectAsync(HttpClient client, string transport, IEnumerable<string> channels, string? cursor = null, bool cursorInQuery = false, string? extraQuery = null)
    {
        var query = string.Join("&", channels.Select(c => "channel=" + Uri.EscapeDataString(c)));
        if (extraQuery is not null)
            query += "&" + extraQuery;
        var headerCursor = transport == "sse" && !cursorInQuery;
        if (cursor is not null && !headerCursor)
            query += "&cursor=" + Uri.EscapeDataString(cursor);
        // The client's version and policy (HTTP/2 tests): a request made by hand otherwise asks for HTTP/1.1.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/{transport}?{query}") { Version = client.DefaultRequestVersion, VersionPolicy = client.DefaultVersionPolicy };
        if (cursor is not null && headerCursor)
            request.Headers.Add("Last-Event-ID", cursor);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(transport == "sse" ? "text/event-stream" : "application/x-ndjson"));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ReadTimeout);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync().WaitAsync(ReadTimeout);
            response.Dispose();
            throw new InvalidOperationException($"{transport} answered {(int)response.StatusCode}: {body}");
        }

        var stream = await response.Content.ReadAsStreamAsync().WaitAsync(ReadTimeout);
        return new PushClient(transport, response, stream);
    }

    /// <summary>The next message, skipping heartbeats unless <paramref name="includeHeartbeats"/>; null at the end of the response.</summary>
    public async Task<PushMessage?> ReadAsync(bool includeHeartbeats = false)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        while (true)
        {
            var message = Transport == "sse" ? await ReadEventAsync(timeout.Token) : await ReadLineAsync(timeout.Token);
            if (message is null || includeHeartbeats || message.Type != "heartbeat")
                return message;
        }
    }

    /// <summary>The next message, which must be of <paramref name="type"/>.</summary>
    public async Task<PushMessage> ExpectAsync(string type)
    {
        var message = await ReadAsync();
        Assert.True(message is not null, $"expected '{type}', the response ended");
        Assert.True(message.Type == type, $"expected '{type}', got '{message.Type}': {message.Json}");
        return message;
    }

    /// <summary>The next message of <paramref name="type"/>, skipping any of <paramref name="skipped"/> before it.</summary>
    public async Task<PushMessage> ExpectSkippingAsync(string type, string skipped)
    {
        while (true)
        {
            var message = await ReadAsync();
            Assert.True(message is not null, $"expected '{type}', the response ended");
            if (message.Type == skipped && type != skipped)
                continue;
            Assert.True(message.Type == type, $"expected '{type}', got '{message.Type}': {message.Json}");
            return message;
        }
    }

    /// <summary>Reads <paramref name="count"/> publications (failing on anything else).</summary>
    public async Task<List<PushMessage>> ReadPublicationsAsync(int count)
    {
        var list = new List<PushMessage>(count);
        while (list.Count < count)
            list.Add(await ExpectAsync("publication"));
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        await Task.CompletedTask;
    }

    private async Task<PushMessage?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken);
            if (line is null)
                return null;
            if (line.Length == 0)
                continue;
            var json = JsonDocument.Parse(line).RootElement.Clone();
            var cursor = json.TryGetProperty("cursor", out var c) ? c.GetString() : null;
            return new PushMessage(json.GetProperty("type").GetString()!, json, cursor);
        }
    }

    private async Task<PushMessage?> ReadEventAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        var type = "message";
        var data = new StringBuilder();
        var hasData = false;
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken);
            if (line is null)
                return null;
            if (line.Length == 0)
            {
                if (hasData)
                {
                    var json = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    return new PushMessage(type, json, id);
                }

                id = null;
                type = "message";
                continue;
            }

            if (line[0] == ':')
            {
                Comments.Add(line[1..].Trim());
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.StartsWith(' '))
                value = value[1..];
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "retry":
                    Retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "data":
                    if (hasData)
                        data.Append('\n');
                    data.Append(value);
                    hasData = true;
                    break;
                default:
                    break;
            }
        }
    }
}
