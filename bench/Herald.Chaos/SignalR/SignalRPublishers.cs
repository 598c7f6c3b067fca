using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Herald.Chaos.SignalR;

/// <summary>
/// Publishers on random nodes (through the proxy), paced like Herald's: publication <c>n</c>
/// (0 … total-1) goes to a random channel as <c>POST /publish/{group}</c> with the body
/// <c>{"c":channel,"n":n}</c>, and is retried until a node answers 201. SignalR has no
/// idempotency key: a retry after an ambiguous failure (the node died after the PUBLISH, before
/// its answer) broadcasts the publication a second time, which subscribers count as a duplicate.
/// Every time is a <see cref="Stopwatch.GetTimestamp"/> of this process, the clock the subscribers use.
/// </summary>
internal sealed class SignalRPublishers
{
    private readonly Uri _proxy;
    private readonly int _channels;
    private readonly int _publishers;
    private readonly int _ratePerSecond;
    private long _retries;
    private long _acked;

    public SignalRPublishers(Uri proxy, int channels, int publishers, int total, int ratePerSecond)
    {
        _proxy = proxy;
        _channels = channels;
        _publishers = publishers;
        _ratePerSecond = ratePerSecond;
        ChannelOf = new int[total];
        FirstAttempt = new long[total];
        AcknowledgedAt = new long[total];
    }

    /// <summary>Per publication, its channel.</summary>
    public int[] ChannelOf { get; }

    /// <summary>Per publication, when its first attempt was sent.</summary>
    public long[] FirstAttempt { get; }

    /// <summary>Per publication, when the 201 arrived (0: never acknowledged).</summary>
    public long[] AcknowledgedAt { get; }

    public long Acknowledged => Interlocked.Read(ref _acked);

    public long Retries => Interlocked.Read(ref _retries);

    public static string Group(int channel) => "chaos-c" + channel.ToString(CultureInfo.InvariantCulture);

    /// <summary>As Herald's publishers: pooled connections live 2 s (each new one lands on the next node), 10 s per request.</summary>
    public static HttpClient CreateClient(Uri proxy) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(2), ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = proxy,
            Timeout = TimeSpan.FromSeconds(10),
        };

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var total = ChannelOf.Length;
        var next = -1;
        var started = DateTime.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, _publishers).Select(p => Task.Run(async () =>
        {
            using var http = CreateClient(_proxy);
            var random = new Random(p);
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= total || cancellationToken.IsCancellationRequested)
                    return;
                if (_ratePerSecond > 0)
                {
                    // Paced over all publishers: publication n leaves at n / rate seconds.
                    var wait = started + TimeSpan.FromSeconds((double)n / _ratePerSecond) - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, cancellationToken);
                }

                var channel = random.Next(_channels);
                ChannelOf[n] = channel;
                FirstAttempt[n] = Stopwatch.GetTimestamp();
                var body = "{\"c\":" + channel.ToString(CultureInfo.InvariantCulture) + ",\"n\":" + n.ToString(CultureInfo.InvariantCulture) + "}";
                Interlocked.Add(ref _retries, await PublishAsync(http, channel, body, cancellationToken));
                AcknowledgedAt[n] = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref _acked);
            }
        }, cancellationToken)));
    }

    /// <summary>Posts until a node answers 2xx; returns how many attempts failed first (the retries).</summary>
    public static async Task<int> PublishAsync(HttpClient http, int channel, string body, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
                using var response = await http.PostAsync("publish/" + Group(channel), content, cancellationToken);
                if (response.IsSuccessStatusCode)
                    return attempt;
                if ((int)response.StatusCode < 500 && (int)response.StatusCode != 429)
                    throw new InvalidOperationException($"publish {body} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(Math.Min(1000, 50 * (attempt + 1)), cancellationToken);
        }
    }
}
