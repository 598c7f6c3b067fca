using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.Testing.Cluster;

/// <summary>
/// Publishers on random nodes (through the proxy): each message has its own idempotency key, and a
/// publish whose answer did not come (node killed, Redis down: 503) is retried with the same key
/// until it is acknowledged — so each message is in the log once, whatever failed.
/// </summary>
public sealed class Publishers(Uri proxy, string apiKey, IReadOnlyList<string> channels, int publishers, int total, int ratePerSecond)
{
    private readonly ConcurrentDictionary<string, List<Seen>> _acknowledged = new(StringComparer.Ordinal);
    private long _retries;
    private long _acked;

    public long Acknowledged => Interlocked.Read(ref _acked);

    public long Retries => Interlocked.Read(ref _retries);

    public IReadOnlyDictionary<string, List<Seen>> AcknowledgedByChannel => _acknowledged;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var next = -1;
        var started = DateTime.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(p => Task.Run(async () =>
        {
            using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(2), ConnectTimeout = TimeSpan.FromSeconds(5) };
            using var http = new HttpClient(handler) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            var random = new Random(p);
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= total || cancellationToken.IsCancellationRequested)
                    return;
                if (ratePerSecond > 0)
                {
                    // Paced over all publishers: message n leaves at n / rate seconds.
                    var due = started + TimeSpan.FromSeconds((double)n / ratePerSecond);
                    var wait = due - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, cancellationToken);
                }

                var channel = channels[random.Next(channels.Count)];
                await PublishAsync(http, channel, $"m{n}", cancellationToken);
            }
        }, cancellationToken)));
    }

    private async Task PublishAsync(HttpClient http, string channel, string key, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes("{\"data\":{\"k\":\"" + key + "\"}}");
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/channels/{channel}/messages") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                    var root = json.RootElement;
                    var seen = new Seen(root.GetProperty("epoch").GetString()!, root.GetProperty("offset").GetInt64(), key);
                    var list = _acknowledged.GetOrAdd(channel, _ => []);
                    lock (list)
                        list.Add(seen);
                    Interlocked.Increment(ref _acked);
                    return;
                }

                if ((int)response.StatusCode < 500 && (int)response.StatusCode != 429)
                    throw new InvalidOperationException($"publish of {key} to {channel} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            Interlocked.Increment(ref _retries);
            await Task.Delay(Math.Min(1000, 50 * (attempt + 1)), cancellationToken);
        }
    }
}
