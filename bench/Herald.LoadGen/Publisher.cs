using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// Publishes over HTTP keep-alive, POSTing <paramref name="body"/>(worker, its k-th message, send
/// time) to <paramref name="path"/> — the one publisher of every target, which differ only in path
/// and body (<see cref="ForHerald"/>, <see cref="SignalRClient"/>, <see cref="SocketIoClient"/>).
/// Generator and server share one machine, so the subscriber's <see cref="Stopwatch.GetTimestamp"/>
/// minus the body's send time is the publish→receive latency.
/// </summary>
internal sealed class Publisher(Connector connector, Uri baseUri, string path, string? apiKey, Func<int, long, long, byte[]> body)
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public long Published;
    public long Errors;
    public string? FirstError;

    /// <summary>Herald: <c>POST /v1/channels/{ch}/messages</c> with <c>{"data":{"t":&lt;timestamp&gt;,"p":"xx…"}}</c>, the data exactly <paramref name="payloadBytes"/> bytes.</summary>
    public static Publisher ForHerald(Connector connector, Uri baseUri, string channel, string apiKey, int payloadBytes) =>
        new(connector, baseUri, $"v1/channels/{channel}/messages", apiKey, (_, _, timestamp) => HeraldBody(timestamp, payloadBytes));

    /// <summary>Publishes for <paramref name="duration"/>: at <paramref name="rate"/> messages/s in all, or as fast as <paramref name="workers"/> connections allow when the rate is 0.</summary>
    public async Task RunAsync(double rate, int workers, TimeSpan duration)
    {
        using var client = new HttpClient(connector.CreateHandler(workers)) { Timeout = TimeSpan.FromSeconds(30), BaseAddress = baseUri };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var started = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            long sent = 0;
            while (started.Elapsed < duration)
            {
                if (rate > 0)
                {
                    // Open loop: message k of this worker is due at k·workers/rate; late ones go at once.
                    var due = TimeSpan.FromSeconds((sent * workers + worker) / rate);
                    if (due >= duration)
                        break;
                    if (due > started.Elapsed)
                        await Task.Delay(due - started.Elapsed);
                }

                sent++;
                using var content = new ByteArrayContent(body(worker, sent, Stopwatch.GetTimestamp()));
                content.Headers.ContentType = s_json;
                try
                {
                    using var response = await client.PostAsync(path, content);
                    if (response.IsSuccessStatusCode)
                        Interlocked.Increment(ref Published);
                    else
                        Fail($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException e)
                {
                    Fail(e.Message);
                }
                catch (TaskCanceledException e)
                {
                    Fail(e.Message);
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref Errors);
        FirstError ??= error;
    }

    /// <summary><c>{"data":{"t":&lt;timestamp&gt;,"p":"xx…"}}</c>, with <paramref name="prefix"/> members before <c>data</c>; the data part is <paramref name="payloadBytes"/> long.</summary>
    public static byte[] HeraldBody(long timestamp, int payloadBytes, string prefix = "")
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(timestamp, digits, out var length);
        // {"t":<digits>,"p":"<pad>"} is payloadBytes long.
        var pad = Math.Max(0, payloadBytes - 13 - length);
        var body = new StringBuilder(payloadBytes + 16 + prefix.Length);
        body.Append('{').Append(prefix).Append("\"data\":{\"t\":").Append(Encoding.ASCII.GetString(digits[..length])).Append(",\"p\":\"").Append('x', pad).Append("\"}}");
        return Encoding.ASCII.GetBytes(body.ToString());
    }
}
