using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// Watches the server from outside: resident memory from <c>/proc/&lt;pid&gt;/status</c>, CPU from
/// <c>/proc/&lt;pid&gt;/stat</c>, and — with no endpoint added to the server — a full blocking GC
/// induced through the runtime's diagnostics IPC socket, exactly as dotnet-gcdump does (an
/// EventPipe session with the GCHeapCollect keyword).
/// </summary>
internal sealed class ServerProbe(int pid)
{
    // sysconf(_SC_CLK_TCK) is 100 on every Linux this runs on.
    private const double ClockTicksPerSecond = 100;

    public int Pid { get; } = pid;

    public long RssKiB() => StatusValue("VmRSS:");

    public long RssAnonKiB() => StatusValue("RssAnon:");

    public int Threads() => (int)StatusValue("Threads:");

    /// <summary>User + system CPU seconds the process used so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicksPerSecond;
    }

    /// <summary>Busy and total clock ticks of one core from /proc/stat (busy includes softirq: loopback receive work lands there).</summary>
    public static (long Busy, long Total) CoreTicks(int core)
    {
        foreach (var line in File.ReadLines("/proc/stat"))
        {
            if (!line.StartsWith($"cpu{core} ", StringComparison.Ordinal))
                continue;
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var idle = values[3] + values[4];
            var total = values.Take(8).Sum();
            return (total - idle, total);
        }

        return (0, 0);
    }

    /// <summary>How busy a core was between two <see cref="CoreTicks"/> readings, in percent.</summary>
    public static double BusyPercent((long Busy, long Total) before, (long Busy, long Total) after) =>
        after.Total > before.Total ? Math.Round(100.0 * (after.Busy - before.Busy) / (after.Total - before.Total), 1) : 0;

    /// <summary>Which GC the server runs, from its thread names: server GC has ".NET Server GC" threads, background GC ".NET BGC".</summary>
    public string GcMode()
    {
        var names = Directory.GetDirectories($"/proc/{Pid}/task")
            .Select(t => { try { return File.ReadAllText(Path.Combine(t, "comm")).Trim(); } catch (IOException) { return ""; } })
            .ToList();
        var server = names.Count(n => n.StartsWith(".NET Server GC", StringComparison.Ordinal) || n.StartsWith(".NET SVR", StringComparison.Ordinal));
        var background = names.Count(n => n.Contains("BGC", StringComparison.Ordinal));
        return server > 0 ? $"server ({server} GC threads)" : background > 0 ? "workstation, concurrent" : "workstation, non-concurrent";
    }

    private long StatusValue(string key)
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        return -1;
    }

    /// <summary>Induces a full blocking GC in the server; returns false when its diagnostics socket is not there.</summary>
    public async Task<bool> InduceGcAsync()
    {
        var tmp = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } t ? t : "/tmp";
        var socketPath = Directory.GetFiles(tmp, $"dotnet-diagnostic-{Pid}-*-socket").FirstOrDefault();
        if (socketPath is null)
            return false;

        // Microsoft-Windows-DotNETRuntime, keyword GCHeapCollect (0x800000): enabling it makes the
        // runtime run GC.Collect(2, Forced, blocking) once. No events are wanted, so nothing else.
        using var session = await ConnectAsync(socketPath);
        await session.SendAsync(CollectTracing2("Microsoft-Windows-DotNETRuntime", 0x800000, 5));
        var header = new byte[20];
        await ReadExactlyAsync(session, header);
        var payloadLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14)) - 20;
        var payload = new byte[payloadLength];
        await ReadExactlyAsync(session, payload);
        if (header[17] != 0 || payloadLength < 8)
            return false;
        var sessionId = BinaryPrimitives.ReadUInt64LittleEndian(payload);

        // Drain the trace stream until the session ends, or the runtime would fill its buffers.
        var drain = Task.Run(async () =>
        {
            var sink = new byte[64 * 1024];
            try
            {
                while (await session.ReceiveAsync(sink) > 0)
                {
                }
            }
            catch (SocketException)
            {
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(2));
        using (var stop = await ConnectAsync(socketPath))
        {
            var message = new byte[28];
            WriteHeader(message, commandSet: 2, commandId: 1);
            BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(20), sessionId);
            await stop.SendAsync(message);
            await ReadExactlyAsync(stop, header);
        }

        await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(5)));
        return true;
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read));
            if (n == 0)
                throw new IOException("The diagnostics socket closed early.");
            read += n;
        }
    }

    /// <summary>EventPipe CollectTracing2: buffer MB, format (1 = NetTrace), rundown, providers.</summary>
    private static byte[] CollectTracing2(string provider, ulong keywords, uint level)
    {
        using var body = new MemoryStream();
        using var writer = new BinaryWriter(body, Encoding.Unicode);
        writer.Write(new byte[20]);
        writer.Write(1u); // circular buffer, MB: no events are wanted, and a bigger buffer shows up in the RSS being measured
        writer.Write(1u);
        writer.Write((byte)0);
        writer.Write(1u);
        writer.Write(keywords);
        writer.Write(level);
        writer.Write((uint)(provider.Length + 1));
        writer.Write(Encoding.Unicode.GetBytes(provider + "\0"));
        writer.Write(0u);
        writer.Flush();
        var message = body.ToArray();
        WriteHeader(message, commandSet: 2, commandId: 3);
        return message;
    }

    private static void WriteHeader(byte[] message, byte commandSet, byte commandId)
    {
        "DOTNET_IPC_V1\0"u8.CopyTo(message);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(14), (ushort)message.Length);
        message[16] = commandSet;
        message[17] = commandId;
    }
}
