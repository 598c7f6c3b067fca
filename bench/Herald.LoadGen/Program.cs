// Load generator for Herald's transports. No Herald SDK: raw ClientWebSocket, HttpClient streams
// and sockets, so it measures the server and the wire format, nothing in between.
//
//   idle    --transport ws|sse|stream|longpoll --connections N --url http://127.0.0.1:PORT
//           [--source-ips 127.0.0.2,127.0.0.3] [--processes K] [--rate 1000] [--hold S]
//           [--server-pid PID [--server-gc] [--warmup 100] [--settle 10]]
//           [--channel bench:idle] [--channel-per-connection] [--poll-wait 60] [--no-subscribe (ws: connect only)]
//   fanout  --transport ws|sse|stream|longpoll --subscribers N --url .. --rate R|max --seconds S
//           [--payload 100] [--publishers P] [--processes K] [--api-key KEY] [--server-pid PID]
//           [--source-ips ..] [--open-rate 2000] [--drain 20]
//   smoke   --url .. [--api-key KEY]   fan-out over ws and sse, 20 subscribers, 2 s; exit 1 on any gap,
//                                      duplicate, loss or failed connection
//   probe   --server-pid PID [--server-gc]   the server's RSS, CPU seconds and GC mode
//   idle/fanout --target socketio: against bench/peers/socketio (Engine.IO v4 / Socket.IO v5); see SocketIoClient.cs
//   idle/fanout --target signalr: against bench/peers/SignalRPeer (SignalR JSON hub protocol); see SignalRClient.cs
//
// Results go to stdout as one JSON line; progress goes to stderr.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.LoadGen;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Error.WriteLine("usage: Herald.LoadGen idle|fanout|smoke|probe [--options]; see the top of bench/Herald.LoadGen/Program.cs");
    return 2;
}

args = SocketIoClient.WithTarget(args); // --target socketio (before the line below, which refuses other targets)
args = SignalRClient.WithTarget(args); // --target herald|signalr
var options = new Options(args[1..]);
// Thousands of connection handshakes at once: don't wait for the thread pool's slow ramp-up.
ThreadPool.SetMinThreads(Math.Max(Environment.ProcessorCount, 8), Math.Max(Environment.ProcessorCount, 8));

switch (args[0])
{
    case "idle":
        return await Idle.RunAsync(options);

    case "fanout" when options.Flag("child"):
    {
        var share = await Fanout.RunShareAsync(options, options.Flag("publisher"), async () =>
        {
            Console.WriteLine("READY");
            await Console.In.ReadLineAsync();
        });
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(share, LoadGenJson.Default.FanoutShare));
        return 0;
    }

    case "fanout":
    {
        var report = await Fanout.RunAsync(options);
        Console.Error.WriteLine(report.Describe());
        if (report.FirstError is not null)
            Console.Error.WriteLine("first error: " + report.FirstError);
        Console.WriteLine(JsonSerializer.Serialize(report, LoadGenJson.Default.FanoutReport));
        return 0;
    }

    case "smoke":
    {
        var failed = false;
        foreach (var transport in new[] { "ws", "sse" })
        {
            var smoke = new Options([.. args[1..], "--transport", transport, "--subscribers", "20", "--seconds", "2",
                "--rate", options.Get("rate", "200"), "--channel", $"bench:smoke-{transport}-{Environment.ProcessId}", "--drain", "10"]);
            var report = await Fanout.RunAsync(smoke);
            Console.Error.WriteLine(report.Describe());
            if (!report.Clean)
            {
                failed = true;
                Console.Error.WriteLine($"smoke FAILED over {transport}" + (report.FirstError is null ? "" : ": " + report.FirstError));
            }
        }

        Console.Error.WriteLine(failed ? "smoke: FAILED" : "smoke: ok");
        return failed ? 1 : 0;
    }

    case "probe":
    {
        var probe = new ServerProbe(int.Parse(options.Required("server-pid"), CultureInfo.InvariantCulture));
        var induced = options.Flag("server-gc") && await probe.InduceGcAsync();
        Console.WriteLine(JsonSerializer.Serialize(
            new ProbeReport(probe.RssKiB(), probe.RssAnonKiB(), probe.CpuSeconds(), probe.Threads(), probe.GcMode(), induced),
            LoadGenJson.Default.ProbeReport));
        return 0;
    }

    default:
        Console.Error.WriteLine($"unknown command '{args[0]}': idle, fanout, smoke or probe");
        return 2;
}

internal sealed record ProbeReport(long RssKiB, long RssAnonKiB, double CpuSeconds, int Threads, string GcMode, bool GcInduced);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IdleReport))]
[JsonSerializable(typeof(IdleShare))]
[JsonSerializable(typeof(FanoutShare))]
[JsonSerializable(typeof(FanoutReport))]
[JsonSerializable(typeof(ProbeReport))]
internal sealed partial class LoadGenJson : JsonSerializerContext;
