using System.Diagnostics;
using System.Net.Http.Headers;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// The one publisher of every target: HTTP POSTs over <c>connections</c> keep-alive connections,
/// at most one request in flight on each. Open loop at an offered rate R — message k is due at
/// k/R after the start, whichever connection is free takes it, and it carries its due time as its
/// timestamp, so a publisher held back by a slow server counts that wait as latency instead of
/// hiding it (a connection that was free and waited for the due time stamps the moment its timer
/// woke it instead: how late the generator's own timer fires is not the server's latency, and is
/// reported apart as <see cref="PublishResult.TimerLateP99Ms"/>) — or closed loop (<c>max</c>):
/// every connection sends its next message as soon as the last one is answered, stamped when sent.
/// Each connection numbers its own messages (SignalR's sequence check needs that), and the
/// numbering goes on across runs.
/// </summary>
internal sealed class Publisher : IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json");
    private readonly Target _target;
    private readonly string _path;
    private readonly int _payloadBytes;
    private readonly long[] _sequences;
    private readonly HttpClient _client;

    public Publisher(Target target, Endpoint endpoint, string channel, string? apiKey, int payloadBytes, int connections)
    {
        _target = target;
        _path = target.PublishPath(channel);
        _payloadBytes = payloadBytes;
        _sequences = new long[connections];
        _client = new HttpClient(endpoint.Connector.CreateHandler(connections)) { Timeout = TimeSpan.FromSeconds(30), BaseAddress = endpoint.Base };
        if (apiKey is not null)
            _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public int Connections => _sequences.Length;

    /// <summary>Publishes for <paramref name="duration"/> at <paramref name="rate"/> messages/s (0: closed loop, as fast as answered).</summary>
    public async Task<PublishResult> RunAsync(double rate, TimeSpan duration)
    {
        var result = new PublishResult();
        long next = -1;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, _sequences.Length).Select(worker => Task.Run(async () =>
        {
            while (true)
            {
                long stamp;
                var now = Stopwatch.GetTimestamp();
                if (rate > 0)
                {
                    var k = Interlocked.Increment(ref next);
                    stamp = start + (long)(k * Stopwatch.Frequency / rate);
                    if (stamp >= end)
                        return;
                    if (stamp > now)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)(stamp - now) / Stopwatch.Frequency));
                        var woke = Stopwatch.GetTimestamp();
                        result.RecordTimerLate(woke - stamp);
                        stamp = Math.Max(stamp, woke);
                    }
                }
                else
                {
                    if (now >= end)
                        return;
                    stamp = now;
                }

                var sequence = ++_sequences[worker];
                using var content = new ByteArrayContent(_target.PublishBody(worker, sequence, stamp, _payloadBytes));
                content.Headers.ContentType = s_json;
                try
                {
                    using var response = await _client.PostAsync(_path, content);
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref result.Published);
                        result.RecordAnswer(Stopwatch.GetTimestamp() - stamp);
                    }
                    else
                        result.Fail($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                catch (HttpRequestException e)
                {
                    result.Fail(e.Message);
                }
                catch (TaskCanceledException e)
                {
                    result.Fail(e.Message);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        result.Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return result;
    }

    public void Dispose() => _client.Dispose();
}

internal sealed class PublishResult
{
    private readonly LongHistogram _answers = Latency.Create();
    private readonly LongHistogram _timerLate = Latency.Create();
    public long Published;
    public long Errors;

    /// <summary>Records how long a successful publish took from its timestamp to its answer.</summary>
    public void RecordAnswer(long stopwatchTicks)
    {
        lock (_answers)
            _answers.RecordValue(Latency.Micros(stopwatchTicks));
    }

    /// <summary>Records how late the generator's timer woke a connection for its due time.</summary>
    public void RecordTimerLate(long stopwatchTicks)
    {
        lock (_timerLate)
            _timerLate.RecordValue(Latency.Micros(stopwatchTicks));
    }

    /// <summary>Publish timestamp → HTTP answer, p50 and p99 in ms (what the publish itself costs of the delivery latency).</summary>
    public (double P50, double P99) AnswerMs()
    {
        lock (_answers)
        {
            var (p50, p99, _, _) = Latency.Percentiles(_answers);
            return (p50, p99);
        }
    }

    /// <summary>How late the generator's timer fired for a due publish, p99 in ms (not counted as latency).</summary>
    public double TimerLateP99Ms
    {
        get
        {
            lock (_timerLate)
                return Latency.Percentiles(_timerLate).P99;
        }
    }

    public double Seconds { get; set; }

    public string? FirstError { get; private set; }

    public void Fail(string error)
    {
        Interlocked.Increment(ref Errors);
        FirstError ??= error;
    }
}
