using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// The SIGKILL loop: the real <c>herald</c> on SQLite, 8 publishers with idempotency keys retrying
/// until acknowledged, the server killed with SIGKILL under load and restarted on the same data
/// directory, again and again; then history must hold every acknowledged publish exactly once.
/// 3 kills here; <c>tests/scripts/kill-loop.sh 20</c> runs the long version (HERALD_KILL_LOOP_KILLS).
/// </summary>
public sealed class KillLoopTests
{
    private const int Publishers = 8;
    private const string ApiKey = "kill-loop-api-key-0123456789";

    [Fact]
    public async Task Every_acknowledged_publish_survives_repeated_SIGKILLs_exactly_once()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("HERALD_KILL_LOOP_KILLS"), CultureInfo.InvariantCulture, out var k) ? k : 3;
        var data = TempDirectory.Create();
        string[] args = ["--Herald:ApiKeys:0=" + ApiKey, "--Herald:DefaultPolicy:HistorySize=10000000"];
        var herald = await HeraldProcess.StartAsync(data, args);
        var current = herald.BaseAddress;
        var acknowledged = new ConcurrentDictionary<(int Publisher, int N), byte>();
        var attempts = 0L;
        var retries = 0L;
        using var stop = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(10 + kills));
        try
        {
            var publishers = Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                http.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
                for (var n = 1; !stop.IsCancellationRequested; n++)
                {
                    // The same key until acknowledged: a publish the kill cut after its commit is
                    // answered from the idempotency record, not appended twice.
                    while (true)
                    {
                        deadline.Token.ThrowIfCancellationRequested();
                        Interlocked.Increment(ref attempts);
                        try
                        {
                            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Volatile.Read(ref current), $"v1/channels/kill:p{p}/messages"))
                            {
                                Content = new StringContent($$$"""{"data":{"p":{{{p}}},"n":{{{n}}}}}""", Encoding.UTF8, "application/json"),
                            };
                            request.Headers.Add("Idempotency-Key", $"p{p}-{n}");
                            using var response = await http.SendAsync(request, deadline.Token);
                            if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                            {
                                acknowledged[(p, n)] = 0;
                                break;
                            }
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !deadline.IsCancellationRequested)
                        {
                        }

                        Interlocked.Increment(ref retries);
                        await Task.Delay(50, deadline.Token);
                    }
                }
            })).ToList();

            for (var kill = 1; kill <= kills; kill++)
            {
                // Under load: wait for a few dozen acknowledgements since the last restart.
                var target = acknowledged.Count + 40;
                while (acknowledged.Count < target)
                    await Task.Delay(20, deadline.Token);
                await herald.KillAsync();
                await herald.DisposeAsync();
                herald = await HeraldProcess.StartAsync(data, args);
                Volatile.Write(ref current, herald.BaseAddress);
            }

            var last = acknowledged.Count + 40;
            while (acknowledged.Count < last)
                await Task.Delay(20, deadline.Token);
            await stop.CancelAsync();
            await Task.WhenAll(publishers).WaitAsync(deadline.Token);

            using var reader = new HttpClient { BaseAddress = herald.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            reader.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
            var stored = new Dictionary<(int, int), int>();
            for (var p = 0; p < Publishers; p++)
            {
                foreach (var publication in await reader.ReadAllAsync($"kill:p{p}"))
                {
                    var key = (publication.GetProperty("data").GetProperty("p").GetInt32(), publication.GetProperty("data").GetProperty("n").GetInt32());
                    stored[key] = stored.GetValueOrDefault(key) + 1;
                }
            }

            var lost = acknowledged.Keys.Count(key => !stored.ContainsKey(key));
            var duplicated = stored.Count(pair => pair.Value > 1);
            var report = $"kills={kills} publishers={Publishers} acknowledged={acknowledged.Count} stored={stored.Values.Sum()} attempts={attempts} retries={retries} lost={lost} duplicated={duplicated}";
            if (Environment.GetEnvironmentVariable("HERALD_KILL_LOOP_REPORT") is { Length: > 0 } path)
                await File.WriteAllTextAsync(path, report + "\n");
            Assert.True(lost == 0 && duplicated == 0, report);
            Assert.True(acknowledged.Count >= 40 * (kills + 1), report);
        }
        finally
        {
            await stop.CancelAsync();
            await herald.DisposeAsync();
            TempDirectory.Delete(data);
        }
    }
}
