using System.Net;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Stats;

/// <summary>A reader of <c>GET /v1/stats/stream</c>: the <c>retry:</c> field and each <c>stats</c> event's JSON.</summary>
internal sealed class StatsStream : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpResponseMessage response;
    private readonly StreamReader reader;

    private StatsStream(HttpResponseMessage response, StreamReader reader)
    {
        this.response = response;
        this.reader = reader;
    }

    public HttpResponseMessage Response => response;

    public int? Retry { get; private set; }

    public static async Task<StatsStream> OpenAsync(HttpClient client, string query = "")
    {
        var response = await client.GetAsync(new Uri("v1/stats/stream" + query, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead).WaitAsync(Timeout);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
            response.Dispose();
            throw new InvalidOperationException($"/v1/stats/stream answered {(int)response.StatusCode}: {body}");
        }

        var stream = await response.Content.ReadAsStreamAsync().WaitAsync(Timeout);
        return new StatsStream(response, new StreamReader(stream, Encoding.UTF8));
    }

    /// <summary>The next <c>stats</c> event's data; null when the response ends.</summary>
    public async Task<JsonElement?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        string? eventName = null;
        string? data = null;
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (eventName == "stats" && data is not null)
                    return JsonDocument.Parse(data).RootElement.Clone();
                eventName = data = null;
            }
            else if (line.StartsWith("retry: ", StringComparison.Ordinal))
            {
                Retry = int.Parse(line["retry: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                eventName = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }

        return null;
    }

    /// <summary>Reads events until one satisfies <paramref name="condition"/>.</summary>
    public async Task<JsonElement> ReadUntilAsync(Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await ReadAsync() ?? throw new InvalidOperationException($"The stream ended before {what}.");
            if (condition(last.Value))
                return last.Value;
        }

        throw new TimeoutException($"No stats event showed {what}; the last was {last}");
    }

    public ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        return ValueTask.CompletedTask;
    }
}
