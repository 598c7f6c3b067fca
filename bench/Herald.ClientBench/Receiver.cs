using System.Diagnostics;
using System.Globalization;
using Herald.Client;

namespace Herald.ClientBench;

/// <summary>
/// Subscribes with <see cref="HeraldClient"/> to the feeder and counts what reaches the application:
/// publications/s parsed, checked (contiguous offsets, typed data) and delivered, with the process's
/// CPU time and allocation per publication over the measured window.
/// </summary>
internal static class Receiver
{
    public static async Task<int> RunAsync(Uri server, HeraldTransport transport, double warmupSeconds, double seconds, bool raw)
    {
        var options = new HeraldClientOptions { BaseAddress = server };
        options.Transports.Clear();
        options.Transports.Add(transport);
        await using var client = new HeraldClient(options);
        var disconnects = 0;
        client.Disconnected += (_, e) =>
        {
            Interlocked.Increment(ref disconnects);
            Console.Error.WriteLine($"disconnected: {e.Reason}");
        };
        long delivered = 0, wrong = 0;
        if (raw)
        {
            var subscription = client.Subscribe(Wire.Channel);
            subscription.Received += (_, p) => delivered++;
        }
        else
        {
            var subscription = client.Subscribe(Wire.Channel, BenchJson.Default.ChatLine);
            subscription.Received += (_, p) =>
            {
                if (p.Data.N != p.Offset)
                    wrong++;
                delivered++;
            };
        }

        // The clock starts at the first publication (a busy machine may take seconds to JIT the
        // connection), then the warm-up lets the JIT tier the receive path up before measuring.
        var started = Stopwatch.StartNew();
        while (Volatile.Read(ref delivered) == 0 && started.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(10);
        await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
        var process = Process.GetCurrentProcess();
        var (count0, cpu0, bytes0, gc0) = (Volatile.Read(ref delivered), process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0));
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        process.Refresh();
        var (count1, cpu1, bytes1, gc1) = (Volatile.Read(ref delivered), process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0));
        var elapsed = clock.Elapsed.TotalSeconds;
        var count = count1 - count0;
        var rate = count / elapsed;
        var cpu = (cpu1 - cpu0).TotalSeconds / elapsed;
        var perPublication = count == 0 ? 0 : (double)(bytes1 - bytes0) / count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"transport\":\"{transport.Name()}\",\"data\":\"{(raw ? "raw" : "typed")}\",\"publications\":{count},\"seconds\":{elapsed:0.00},\"perSecond\":{rate:0},\"cpuCores\":{cpu:0.00},\"bytesPerPublication\":{perPublication:0.0},\"gen0\":{gc1 - gc0},\"disconnects\":{disconnects},\"wrongData\":{wrong}}}"));
        return count > 0 && disconnects == 0 && wrong == 0 ? 0 : 1;
    }
}
