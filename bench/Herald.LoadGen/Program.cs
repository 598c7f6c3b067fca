// Load generator for Herald and the systems it is compared with (bench/peers). No client SDK: raw
// sockets speak each wire protocol with the same lean code (Wire/), so client cost does not skew
// the comparison. Targets: --target herald|signalr|socketio|raw, --transport ws|sse|stream|longpoll|polling.
//
//   fanout   --subscribers N --url http://127.0.0.1:PORT --rates 20,50,100,max,10% --seconds S  (N%: of the 'max' step before it)
//            [--connections 64] [--warmup-seconds 3 --warmup-rate 20] [--payload 100] [--processes K]
//            [--api-key KEY] [--server-pid PID] [--source-ips 127.0.0.2,...] [--slo-p99-ms 250] [--keep-up 0.95]
//            [--drain 60] [--stop-after-misses 2] [--buffer 16384]
//            one JSON line per step, then one summary line (Fanout.cs)
//   chat     --rooms 1000 --members 10 --seconds S --url .. [--processes K] [--payload 100] (Chat.cs)
//   idle     --connections N --url .. [--processes K] [--rate 1000] [--server-pid PID [--server-gc]
//            [--warmup 100] [--settle 10]] [--channel-per-connection] [--poll-wait 60] [--no-subscribe] (Idle.cs)
//   shortpoll --pollers C --url .. --seconds S --rate R [--api-key KEY] [--server-pid PID]  (ShortPoll.cs)
//   presence --url .. --secret HMAC --members 10000 --watchers 20 --churn 0.01 --seconds 20
//            [--watch-url ..] [--channel room:x] [--open-rate 500]   one room's presence under churn (PresenceRoom.cs)
//   typing   --url .. --secret HMAC [--watch-url ..] [--watchers 10] [--rounds 50]
//            how long "stopped typing" takes to reach the room after a stop, a message, a disconnect (TypingStop.cs)
//   smoke    --url .. --api-key KEY   fan-out over ws and sse, 20 subscribers, 2 s; exit 1 on any gap,
//            duplicate, loss or failed connection
//   probe    --server-pid PID [--server-gc]   the server's RSS, CPU seconds and GC mode
//
// Results go to stdout as JSON lines; progress goes to stderr.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Herald.LoadGen;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Error.WriteLine("usage: Herald.LoadGen fanout|chat|idle|shortpoll|presence|typing|smoke|probe [--options]; see the top of bench/Herald.LoadGen/Program.cs");
    return 2;
}

var options = new Options(args[1..]);
// Thousands of connection handshakes at once: don't wait for the thread pool's slow ramp-up.
ThreadPool.SetMinThreads(Math.Max(Environment.ProcessorCount, 8), Math.Max(Environment.ProcessorCount, 8));

switch (args[0])
{
    case "idle":
        return await Idle.RunAsync(options);

    case "fanout" when options.Flag("child"):
        return await FanoutChild.RunAsync(options);

    case "fanout":
        return await Fanout.RunAsync(options);

    case "chat":
        return await Chat.RunAsync(options);

    case "shortpoll":
        return await ShortPoll.RunAsync(options);

    case "presence":
        return await PresenceRoom.RunAsync(options);

    case "typing":
        return await TypingStop.RunAsync(options);

    case "smoke":
    {
        var failed = false;
        foreach (var transport in new[] { "ws", "sse" })
        {
            var smoke = new Options([.. args[1..], "--target", "herald", "--transport", transport, "--subscribers", "20", "--seconds", "2",
                "--rates", options.Get("rates", "100,max"), "--warmup-seconds", "0.5", "--connections", "8",
                "--channel", $"bench:smoke-{transport}-{Environment.ProcessId}", "--drain", "10"]);
            if (await Fanout.RunAsync(smoke) != 0)
            {
                failed = true;
                Console.Error.WriteLine($"smoke FAILED over {transport}");
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
        Console.Error.WriteLine($"unknown command '{args[0]}': fanout, chat, idle, shortpoll, presence, typing, smoke or probe");
        return 2;
}

internal sealed record ProbeReport(long RssKiB, long RssAnonKiB, double CpuSeconds, int Threads, string GcMode, bool GcInduced);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IdleReport))]
[JsonSerializable(typeof(IdleShare))]
[JsonSerializable(typeof(FanoutShare))]
[JsonSerializable(typeof(FanoutStep))]
[JsonSerializable(typeof(FanoutSummary))]
[JsonSerializable(typeof(ChatShare))]
[JsonSerializable(typeof(ChatReport))]
[JsonSerializable(typeof(ShortPollReport))]
[JsonSerializable(typeof(ProbeReport))]
internal sealed partial class LoadGenJson : JsonSerializerContext;
