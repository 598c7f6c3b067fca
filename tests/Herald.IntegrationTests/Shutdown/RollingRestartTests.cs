using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.IntegrationTests.Shutdown;

/// <summary>
/// A rolling restart as an orchestrator does it: SIGTERM the running <c>herald</c> under load,
/// start the next one on the same data directory, and count what every subscriber received.
/// </summary>
public sealed class RollingRestartTests
{
    internal const string Channel = "orders:drain";
    private const string QuietChannel = "orders:quiet";
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private static readonly string[] Args =
    [
        "--Herald:ApiKeys:0=" + TestServer.ApiKey,
        "--Herald:ShutdownTimeout=00:00:20",
        "--Herald:DefaultPolicy:HistorySize=100000",
    ];

    [Fact]
    public async Task SIGTERM_under_load_drains_exits_0_and_every_subscriber_resumes_on_the_next_node_with_no_gap_and_no_duplicate()
    {
        var data = TempDirectory.Create();
        var node = new CurrentNode();
        using var stopSubscribers = new CancellationTokenSource();
        using var stopPublishers = new CancellationTokenSource();
        Subscriber[] subscribers = [new WsSubscriber(node), new PushSubscriber(node, "sse"), new PushSubscriber(node, "stream"), new PollSubscriber(node)];
        Task[] runs = [];
        Task[] publishers = [];
        var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        try
        {
            var first = await HeraldProcess.StartAsync(data, Args);
            node.Address = first.BaseAddress;
            runs = [.. subscribers.Select(s => s.RunAsync(stopSubscribers.Token))];
            await Task.WhenAll(subscribers.Select(s => s.Subscribed.Task)).WaitAsync(Deadline);

            publishers = [.. Enumerable.Range(0, 2).Select(p => PublishAsync(node, p, acknowledged, stopPublishers.Token))];
            await WaitUntilAsync(() => acknowledged.Count >= 100 && subscribers.All(s => s.Count > 20), "publishers and subscribers got going on the first node");

            // A long poll held on a quiet channel: only the shutdown can answer it before its 60 s.
            using var probeClient = new HttpClient { BaseAddress = first.BaseAddress, Timeout = Deadline };
            var probe = probeClient.GetAsync(new Uri($"v1/poll?channel={QuietChannel}&wait=60", UriKind.Relative));
            await WaitForHeldPollAsync(probeClient);

            // A client on a dead network: it never reads, so it never answers the close handshake
            // and the node gives it its 5 s before moving on — a drain longer than a moment.
            using var deaf = new System.Net.WebSockets.ClientWebSocket();
            deaf.Options.KeepAliveInterval = TimeSpan.Zero;
            await deaf.ConnectAsync(new Uri(first.BaseAddress.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "v1/ws"), CancellationToken.None).WaitAsync(Deadline);

            node.StoppingSince = DateTime.UtcNow;
            var (exitCode, elapsed) = await first.TerminateAsync(DrainTimeout + TimeSpan.FromSeconds(10));
            var firstOutput = first.Output;
            await first.DisposeAsync();

            using var probeAnswer = await probe.WaitAsync(Deadline);
            var probeBody = JsonDocument.Parse(await probeAnswer.Content.ReadAsStringAsync()).RootElement;

            await using var second = await HeraldProcess.StartAsync(data, Args);
            node.Address = second.BaseAddress;
            var before = acknowledged.Count;
            await WaitUntilAsync(() => acknowledged.Count >= before + 100, "publishers went on on the second node");
            await stopPublishers.CancelAsync();
            await Task.WhenAll(publishers).WaitAsync(Deadline);

            var top = acknowledged.Values.Max();
            await WaitUntilAsync(() => subscribers.All(s => s.Last >= top), "every subscriber caught up with the last acknowledged publication");
            await stopSubscribers.CancelAsync();
            await Task.WhenAll(runs).WaitAsync(Deadline);

            // The first node drained within the timeout, closed its store and exited 0.
            Assert.True(exitCode == 0, $"herald exited {exitCode} after SIGTERM:\n{firstOutput}");
            Assert.True(elapsed < DrainTimeout, $"the drain took {elapsed}");
            Assert.Contains("Closed the SQLite channel log", firstOutput, StringComparison.Ordinal);

            // The held poll was answered at once, with its cursor and nothing in it.
            Assert.Equal(HttpStatusCode.OK, probeAnswer.StatusCode);
            Assert.False(string.IsNullOrEmpty(probeBody.GetProperty("cursor").GetString()));
            Assert.Empty(probeBody.GetProperty("publications").EnumerateArray());

            // Every acknowledged publication got exactly one offset, and the offsets are 1..top.
            long[] expected = [.. Enumerable.Range(1, (int)top).Select(i => (long)i)];
            Assert.Equal(expected, acknowledged.Values.Order().ToArray());

            // Every subscriber received each of them exactly once, in order, and resumed without a reset.
            foreach (var subscriber in subscribers)
            {
                Assert.True(expected.SequenceEqual(subscriber.Offsets()), $"{subscriber.Name}: {Describe(subscriber.Offsets(), top)}");
                Assert.Equal(0, subscriber.Resets);
                Assert.True(subscriber.Connections >= 2, $"{subscriber.Name} connected {subscriber.Connections} times");
            }

            // The push transports were told to reconnect: close code or disconnect event 3001.
            foreach (var subscriber in subscribers.Where(s => s is not PollSubscriber))
                Assert.True(subscriber.Goodbyes.Contains("3001 shutdown"), $"{subscriber.Name} was told [{string.Join(", ", subscriber.Goodbyes)}]");
        }
        finally
        {
            await stopPublishers.CancelAsync();
            await stopSubscribers.CancelAsync();
            await Task.WhenAll([.. runs, .. publishers]).WaitAsync(Deadline).ContinueWith(_ => { }, TaskScheduler.Default);
            TempDirectory.Delete(data);
        }
    }

    /// <summary>Publishes with an idempotency key per message, retried on any node until acknowledged.</summary>
    private static async Task PublishAsync(CurrentNode node, int publisher, ConcurrentDictionary<string, long> acknowledged, CancellationToken stop)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var key = $"p{publisher}-{i}";
            var giveUp = DateTime.UtcNow + Deadline;
            while (true)
            {
                Assert.True(DateTime.UtcNow < giveUp, $"{key} was never acknowledged");
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node.Address, $"v1/channels/{Channel}/messages"))
                    {
                        Content = new StringContent($$$"""{"data":{"key":"{{{key}}}"}}""", Encoding.UTF8, "application/json"),
                    };
                    request.Headers.Add("Idempotency-Key", key);
                    // Not cancelled by the stop: a publish in flight is carried through to its acknowledgement.
                    using var response = await client.SendAsync(request, CancellationToken.None);
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                    {
                        var offset = JsonDocument.Parse(await response.Content.ReadAsStringAsync(CancellationToken.None)).RootElement.GetProperty("offset").GetInt64();
                        Assert.True(acknowledged.TryAdd(key, offset), $"{key} acknowledged twice");
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The node stopped under this request: retry with the same key (on the next node).
                }

                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    private static async Task WaitForHeldPollAsync(HttpClient client)
    {
        await WaitUntilAsync(
            () =>
            {
                using var stats = new HttpRequestMessage(HttpMethod.Get, "v1/stats");
                stats.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
                using var response = client.Send(stats);
                var body = JsonDocument.Parse(response.Content.ReadAsStream()).RootElement;
                return body.GetProperty("connections").GetProperty("longPoll").GetInt32() >= 1;
            },
            "the probe poll is held");
        await Task.Delay(500);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }

    private static string Describe(IReadOnlyList<long> offsets, long top)
    {
        var seen = new HashSet<long>();
        var duplicates = offsets.Where(o => !seen.Add(o)).Take(10).ToList();
        var missing = Enumerable.Range(1, (int)top).Select(i => (long)i).Where(o => !seen.Contains(o)).Take(10).ToList();
        return $"{offsets.Count} received for {top}; duplicates [{string.Join(", ", duplicates)}], missing [{string.Join(", ", missing)}]";
    }
}

/// <summary>Where clients connect now: the first node, then the one that replaced it.</summary>
internal sealed class CurrentNode
{
    private volatile Uri? address;

    public Uri Address
    {
        get => address ?? throw new InvalidOperationException("No node yet.");
        set => address = value;
    }

    /// <summary>When SIGTERM was sent; null before.</summary>
    public DateTime? StoppingSince { get; set; }
}
