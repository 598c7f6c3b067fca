using System.Diagnostics;

namespace Herald.LoadGen;

/// <summary>The subscribers of one generator process: opened at a controlled rate, closed together.</summary>
internal sealed class Crowd(Target target, Endpoint endpoint, int bufferBytes) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public List<Subscriber> Subscribers { get; } = [];

    public int Acked => Subscribers.Count(s => s.IsAcked);

    public int Failed => Subscribers.Count(s => s.Acked.Task is { IsCompletedSuccessfully: true, Result: false });

    /// <summary>Connections that were acknowledged and have since ended (closed by the server, or failed).</summary>
    public int Ended => Subscribers.Count(s => s.Ended && s.IsAcked);

    /// <summary>
    /// Opens <paramref name="count"/> connections at <paramref name="perSecond"/>, with at most
    /// <paramref name="inFlight"/> handshakes at once, and returns when every one is acknowledged or
    /// failed, or <paramref name="timeout"/> passed.
    /// </summary>
    public async Task OpenAsync(int count, Func<int, Subscriber> create, double perSecond, int inFlight, TimeSpan timeout)
    {
        using var gate = new SemaphoreSlim(inFlight);
        var started = Stopwatch.StartNew();
        var first = Subscribers.Count;
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond);
            if (due > started.Elapsed)
                await Task.Delay(due - started.Elapsed);
            if (!await gate.WaitAsync(timeout))
                break;

            var subscriber = create(first + i);
            Subscribers.Add(subscriber);
            subscriber.Task = RunAsync(subscriber);
            _ = subscriber.Acked.Task.ContinueWith(_ => gate.Release(), TaskScheduler.Default);
        }

        var all = Task.WhenAll(Subscribers.Select(s => s.Acked.Task));
        await Task.WhenAny(all, Task.Delay(timeout));
    }

    private async Task RunAsync(Subscriber subscriber)
    {
        await Task.Yield();
        try
        {
            await target.RunAsync(subscriber, endpoint, bufferBytes, _stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Any failure of one connection is counted, never fatal to the run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            subscriber.Error ??= e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            subscriber.Ended = !_stop.IsCancellationRequested;
            subscriber.Acked.TrySetResult(false);
        }
    }

    /// <summary>Closes every connection (abortively: the server sees the socket end, as when a client vanishes).</summary>
    public async Task CloseAsync()
    {
        await _stop.CancelAsync();
        foreach (var subscriber in Subscribers)
            subscriber.Connection?.Dispose();
        var tasks = Subscribers.Where(s => s.Task is not null).Select(s => s.Task!);
        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// Waits until <paramref name="reached"/> holds for every open subscriber (by index), or nothing
    /// arrived for 10 s, or <paramref name="limit"/> passed: the drain after a step. (10 s: on a shared
    /// machine a starved server can go quiet for seconds and still deliver everything.)
    /// </summary>
    public async Task DrainAsync(Func<int, Subscriber, bool> reached, TimeSpan limit)
    {
        var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        long lastTotal = -1, lastChange = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until)
        {
            var done = true;
            for (var i = 0; i < Subscribers.Count && done; i++)
            {
                var s = Subscribers[i];
                done = !s.IsAcked || s.Ended || reached(i, s);
            }

            if (done)
                return;
            var total = Subscribers.Sum(s => s.Received);
            if (total != lastTotal)
            {
                lastTotal = total;
                lastChange = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastChange) > TimeSpan.FromSeconds(10))
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    public string? FirstError() => Subscribers.Select(s => s.Error).FirstOrDefault(e => e is not null);

    public void Dispose() => _stop.Dispose();
}
