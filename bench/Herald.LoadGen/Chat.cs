using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.LoadGen.Wire;

namespace Herald.LoadGen;

/// <summary>
/// <c>chat</c>: R rooms × M members, every member one connection subscribed to its room, spread
/// over generator processes. Each member sends one message per second to its room over its own
/// connection (Herald: the WebSocket <c>publish</c> op; SignalR: the hub's <c>Say</c>; Socket.IO:
/// a <c>say</c> event the peer relays to the room), the sends of all members spread evenly over the
/// second. Every member receives every message of its room (its own too): R × M × M deliveries/s.
/// Each message carries its sender, the sender's sequence number and its due time, so latency,
/// gaps and duplicates are counted per (room, member). A 2 s warm-up round comes first.
/// </summary>
internal static class Chat
{
    public static async Task<int> RunAsync(Options options)
    {
        if (options.Flag("child"))
            return await ChildAsync(options);

        var target = Target.Parse(options);
        var rooms = options.Int("rooms", 1000);
        var members = options.Int("members", 10);
        var processes = options.Int("processes", 2);
        var seconds = options.Int("seconds", 10);
        var probe = options.Get("server-pid") is { } pid ? new ServerProbe(int.Parse(pid, CultureInfo.InvariantCulture)) : null;
        var children = new List<Child>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var first = rooms * i / processes;
                children.Add(Child.Start(Child.ChildArgs(options, "chat", i, processes, new Dictionary<string, string?>
                {
                    ["first-room"] = first.ToString(CultureInfo.InvariantCulture),
                    ["room-count"] = (rooms * (i + 1) / processes - first).ToString(CultureInfo.InvariantCulture),
                })));
            }

            var connected = 0;
            foreach (var child in children)
            {
                var ready = (await child.WaitForAsync("READY", TimeSpan.FromSeconds(options.Double("open-timeout", 120) + 60)))?.Split(' ', 3)
                    ?? throw new InvalidOperationException("A chat generator process exited before it was ready.");
                connected += int.Parse(ready[0], CultureInfo.InvariantCulture);
                if (ready[1] != "0")
                    Console.Error.WriteLine($"{ready[1]} connections failed: {(ready.Length > 2 ? ready[2] : "")}");
            }

            Console.Error.WriteLine($"{connected} of {rooms * members} chat members connected and joined");
            _ = await RoundAsync(children, 2, 0, null);
            var report = await RoundAsync(children, seconds, 2, probe);
            report.Target = target.System;
            report.Transport = target.Transport;
            report.Rooms = rooms;
            report.Members = members;
            report.Connections = connected;
            Console.Error.WriteLine(report.Describe());
            Console.WriteLine(JsonSerializer.Serialize(report, LoadGenJson.Default.ChatReport));
            foreach (var child in children)
                await child.SendAsync("stop");
            foreach (var child in children)
                await child.ExitAsync();
            return report.Clean ? 0 : 1;
        }
        finally
        {
            foreach (var child in children)
                child.Dispose();
        }
    }

    /// <summary>One round of <paramref name="seconds"/> s, starting 0.5 s from now in every process; sequence numbers go on from <paramref name="sequenceBase"/>.</summary>
    private static async Task<ChatReport> RoundAsync(List<Child> children, int seconds, int sequenceBase, ServerProbe? probe)
    {
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        var serverCpu = probe?.CpuSeconds() ?? 0;
        var ownCpu = Environment.CpuUsage.TotalTime;
        foreach (var child in children)
            await child.SendAsync(string.Create(CultureInfo.InvariantCulture, $"round {start} {seconds} {sequenceBase}"));
        var shares = await Share.CollectAsync(children, LoadGenJson.Default.ChatShare, TimeSpan.FromSeconds(seconds + 90));
        var wall = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        var report = new ChatReport { Seconds = seconds, Sent = shares.Sum(s => s.Sent) };
        report.Add(shares, start, seconds);
        report.SentPerSecond = Math.Round(report.Sent / (double)seconds);
        report.Measure(probe, serverCpu, shares.Sum(s => s.GeneratorCpuSeconds) + (Environment.CpuUsage.TotalTime - ownCpu).TotalSeconds, wall);
        return report;
    }

    private static async Task<int> ChildAsync(Options options)
    {
        var target = Target.Parse(options);
        var members = options.Int("members", 10);
        var rooms = options.Int("rooms", 1000);
        var firstRoom = options.Int("first-room", 0);
        var roomCount = options.Int("room-count", rooms);
        var payload = options.Int("payload", 100);
        using var endpoint = new Endpoint(options.Required("url"), Connector.Parse(options.Get("source-ips")));
        using var crowd = new Crowd(target, endpoint, options.Int("buffer", 4096));
        string RoomName(int room) => target.IsHerald ? $"chat:r{room}" : $"r{room}";
        await crowd.OpenAsync(roomCount * members, i => new Subscriber(RoomName(firstRoom + i / members)) { Sequenced = true },
            options.Double("open-rate", 2000), 256, TimeSpan.FromSeconds(options.Double("open-timeout", 120)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {crowd.Acked} {crowd.Failed} {crowd.FirstError()}"));

        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ');
            if (words[0] == "stop")
                break;
            if (words[0] != "round")
                continue;
            var start = long.Parse(words[1], CultureInfo.InvariantCulture);
            var seconds = int.Parse(words[2], CultureInfo.InvariantCulture);
            var sequenceBase = int.Parse(words[3], CultureInfo.InvariantCulture);
            var marks = crowd.Subscribers.Select(s => (s.Received, s.Gaps, s.Duplicates, s.Last, s.Ended)).ToArray();
            var cpu = Environment.CpuUsage.TotalTime;
            Latency.Reset();
            Latency.Recording = true;
            var sent = await SendAsync(crowd, target, start, seconds, sequenceBase, firstRoom * members, rooms * members, members, payload);
            var expected = (long)members * seconds;
            await crowd.DrainAsync((i, s) => s.Last >= marks[i].Last + expected, TimeSpan.FromSeconds(60));
            Latency.Recording = false;
            var share = new ChatShare { Sent = sent };
            for (var i = 0; i < crowd.Subscribers.Count; i++)
            {
                var s = crowd.Subscribers[i];
                share.Deliveries += s.Received - marks[i].Received;
                share.Gaps += s.Gaps - marks[i].Gaps;
                share.Duplicates += s.Duplicates - marks[i].Duplicates;
                share.LastReceivedTicks = Math.Max(share.LastReceivedTicks, s.LastReceivedTicks);
                if (!s.IsAcked || marks[i].Ended)
                    continue;
                share.Expected += expected;
                share.Missing += Math.Max(0, expected - (s.Last - Math.Max(0, marks[i].Last)));
                if (s.Ended)
                    share.Disconnected++;
            }

            share.GeneratorCpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
            share.Histogram = Latency.Encode(Latency.Merge());
            share.FirstError = crowd.FirstError();
            Console.WriteLine("RESULT " + JsonSerializer.Serialize(share, LoadGenJson.Default.ChatShare));
        }

        await crowd.CloseAsync();
        return 0;
    }

    /// <summary>
    /// Member g of all (<paramref name="firstMember"/> + local index) sends its k-th message at
    /// start + k + g/<paramref name="allMembers"/> seconds, stamped with that due time.
    /// </summary>
    private static async Task<long> SendAsync(Crowd crowd, Target target, long start, int seconds, int sequenceBase, int firstMember, int allMembers, int members, int payload)
    {
        long sent = 0;
        var frequency = Stopwatch.Frequency;
        for (var k = 0; k < seconds; k++)
        {
            for (var i = 0; i < crowd.Subscribers.Count; i++)
            {
                var member = crowd.Subscribers[i];
                var due = start + k * frequency + (long)((double)(firstMember + i) / allMembers * frequency);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > frequency / 1000)
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / frequency));
                if (!member.IsAcked || member.Ended || member.Connection is not { } connection)
                    continue;
                var data = Target.Data(payload, string.Create(CultureInfo.InvariantCulture, $"\"w\":{i % members},\"s\":{sequenceBase + k + 1},\"t\":{due}"));
                var frame = target.System switch
                {
                    "signalr" => SignalRClient.Say(member.Channel, data),
                    "socketio" => SocketIoClient.Say(member.Channel, data),
                    _ => WebSocketWire.Frame(Encoding.UTF8.GetBytes($"{{\"op\":\"publish\",\"channel\":\"{member.Channel}\",\"data\":{Encoding.ASCII.GetString(data)}}}")),
                };
                try
                {
                    await connection.SendAsync(frame, CancellationToken.None);
                    sent++;
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                    member.Error ??= "send failed: " + e.Message;
                }
            }
        }

        return sent;
    }

}

internal sealed class ChatShare : Share
{
    public long Sent { get; set; }
}

internal sealed class ChatReport : Measurement
{
    public string Phase { get; set; } = "chat";
    public string Target { get; set; } = "";
    public string Transport { get; set; } = "";
    public int Rooms { get; set; }
    public int Members { get; set; }
    public int Connections { get; set; }
    public int Seconds { get; set; }
    public long Sent { get; set; }
    public double SentPerSecond { get; set; }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"chat {Target} {Transport}: {Rooms} rooms × {Members}, {Connections} connected; sent {Sent} ({SentPerSecond}/s), delivered {Deliveries}/{Expected} = {DeliveriesPerSecond}/s; "
        + $"latency p50 {LatencyP50Ms} p99 {LatencyP99Ms} p99.9 {LatencyP999Ms} max {LatencyMaxMs} ms; gaps {Gaps} dups {Duplicates} missing {Missing} disconnected {Disconnected}; "
        + $"server CPU {ServerCpuPercent} % ({ServerCpuMicrosPerDelivery} µs/delivery), RSS {ServerRssMiB} MiB; generator CPU {GeneratorCpuPercent} %");
}
