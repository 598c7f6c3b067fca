using BenchmarkDotNet.Running;
using Herald.Client;
using Herald.ClientBench;

// dotnet run -c Release --project bench/Herald.ClientBench -- alloc [BenchmarkDotNet args]
// dotnet run -c Release --project bench/Herald.ClientBench -- feed --urls http://127.0.0.1:5099
// dotnet run -c Release --project bench/Herald.ClientBench -- receive --server http://127.0.0.1:5099 --transport stream|ws [--seconds 10] [--warmup 3] [--raw]
// dotnet run -c Release --project bench/Herald.ClientBench -- smoke      (both in one process, 2 s each transport)
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

double Seconds(string name, double fallback) => double.Parse(Arg(name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

switch (args.FirstOrDefault())
{
    case "alloc":
        BenchmarkRunner.Run<ReceivePathBenchmarks>(args: args[1..]);
        return 0;
    case "feed":
        var app = await Feeder.StartAsync(Arg("--urls", "http://127.0.0.1:5099"));
        Console.WriteLine($"feeding on {string.Join(' ', app.Urls)}");
        var done = new TaskCompletionSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            done.TrySetResult();
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => done.TrySetResult();
        await done.Task;
        await app.StopAsync();
        return 0;
    case "receive":
        if (!HeraldTransports.TryParse(Arg("--transport", "stream"), out var transport))
            throw new ArgumentException("--transport: ws, sse, stream, longpoll or poll");
        return await Receiver.RunAsync(new Uri(Arg("--server", "http://127.0.0.1:5099")), transport, Seconds("--warmup", 3), Seconds("--seconds", 10), args.Contains("--raw"));
    case "smoke":
        var feeder = await Feeder.StartAsync("http://127.0.0.1:0");
        var url = Feeder.Address(feeder);
        var status = await Receiver.RunAsync(url, HeraldTransport.Stream, 0.5, 1.5, raw: false)
                   | await Receiver.RunAsync(url, HeraldTransport.WebSocket, 0.5, 1.5, raw: false);
        await feeder.StopAsync();
        return status;
    default:
        Console.Error.WriteLine("usage: alloc | feed [--urls URL] | receive [--server URL] [--transport stream|ws] [--seconds N] [--warmup N] [--raw] | smoke");
        return 2;
}
