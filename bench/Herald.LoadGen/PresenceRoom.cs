using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Herald.LoadGen;

/// <summary>
/// <c>presence</c>: one room of <c>--members</c> users (WebSocket, presence <c>enter</c>) watched by
/// <c>--watchers</c> more (presence <c>list</c>), with <c>--churn</c> of the members leaving (a
/// normal close) and coming back (a new connection) every second for <c>--seconds</c>. Reports,
/// per watcher, the presence diffs and count messages and their bytes per second, and how long a
/// join or leave took from the action to a watcher's diff (p50/p99).
/// <c>--watch-url</c> puts the watchers on another node (cross-node latency).
/// </summary>
/// <remarks>
/// Users need tokens: <c>--secret</c> is the server's <c>Herald:Auth:HmacSecret</c>; tokens are
/// minted here (HS256). The channel's namespace must have <c>Presence: List</c> and a
/// <c>PresenceListLimit</c> above the member count for the watchers to get a list.
/// </remarks>
internal static class PresenceRoom
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(Options options)
    {
        var url = new Uri(options.Required("url"));
        var watchUrl = new Uri(options.Get("watch-url") ?? url.ToString());
        var secret = options.Required("secret");
        var members = options.Int("members", 1000);
        var watcherCount = options.Int("watchers", 20);
        var churn = options.Double("churn", 0.01);
        var seconds = options.Double("seconds", 20);
        var channel = options.Get("channel", "room:bench-" + Environment.ProcessId);
        var openRate = options.Double("open-rate", 500);

        Log($"opening {members} members on {channel} at {openRate}/s");
        var crowd = new Member[members];
        var pace = Stopwatch.StartNew();
        for (var i = 0; i < members; i += 50)
        {
            await Task.WhenAll(Enumerable.Range(i, Math.Min(50, members - i)).Select(async k => crowd[k] = await Member.OpenAsync(url, secret, $"m{k:D6}", channel, "enter")));
            var due = TimeSpan.FromSeconds((i + 50) / openRate);
            if (due > pace.Elapsed)
                await Task.Delay(due - pace.Elapsed);
        }

        Log($"opening {watcherCount} list watchers");
        var actions = new ConcurrentDictionary<string, long>();
        var joinLatency = new LongHistogram(TimeStamp.Seconds(60), 3);
        var leaveLatency = new LongHistogram(TimeStamp.Seconds(60), 3);
        var watchers = new List<Watcher>();
        for (var i = 0; i < watcherCount; i++)
            watchers.Add(await Watcher.OpenAsync(watchUrl, secret, $"w{i:D4}", channel, actions, joinLatency, leaveLatency));

        // Settle, then measure from zero.
        await Task.Delay(TimeSpan.FromSeconds(3));
        foreach (var watcher in watchers)
            watcher.Reset();
        joinLatency.Reset();
        leaveLatency.Reset();

        Log($"churning {churn:P1} of the members per second for {seconds} s");
        var perSecond = Math.Max(1, (int)Math.Round(members * churn));
        var random = new Random(7);
        var clock = Stopwatch.StartNew();
        var churned = 0;
        var tasks = new List<Task>();
        var busy = new HashSet<int>();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            var due = TimeSpan.FromSeconds(churned / (double)perSecond);
            if (due > clock.Elapsed)
                await Task.Delay(due - clock.Elapsed);
            var index = random.Next(members);
            lock (busy)
            {
                // A member still leaving or coming back is not picked again.
                if (!busy.Add(index))
                    continue;
            }

            var member = crowd[index];
            churned++;
            tasks.Add(Task.Run(async () =>
            {
                actions[member.User + ":leave"] = Stopwatch.GetTimestamp();
                await member.CloseAsync();
                await Task.Delay(200);
                actions[member.User + ":join"] = Stopwatch.GetTimestamp();
                crowd[index] = await Member.OpenAsync(url, secret, member.User, channel, "enter");
                lock (busy)
                    busy.Remove(index);
            }));
        }

        await Task.WhenAll(tasks).WaitAsync(s_timeout);
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Rates over the whole counting window: the churn, and the drain of its last changes.
        var elapsed = clock.Elapsed.TotalSeconds;
        var diffs = watchers.Sum(w => w.Diffs);
        var counts = watchers.Sum(w => w.Counts);
        var bytes = watchers.Sum(w => w.Bytes);
        var report = new
        {
            members,
            watchers = watcherCount,
            seconds = Math.Round(elapsed, 1),
            churnPerSecond = perSecond,
            joinsAndLeaves = churned * 2,
            diffsPerWatcherPerSecond = Math.Round(diffs / (double)watcherCount / elapsed, 2),
            countsPerWatcherPerSecond = Math.Round(counts / (double)watcherCount / elapsed, 2),
            presenceBytesPerWatcherPerSecond = Math.Round(bytes / (double)watcherCount / elapsed),
            joinP50Ms = Ms(joinLatency, 50),
            joinP99Ms = Ms(joinLatency, 99),
            leaveP50Ms = Ms(leaveLatency, 50),
            leaveP99Ms = Ms(leaveLatency, 99),
            gaps = watchers.Sum(w => w.Gaps),
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        foreach (var member in crowd)
            await member.CloseAsync();
        foreach (var watcher in watchers)
            await watcher.CloseAsync();
        return report.gaps == 0 ? 0 : 1;
    }

    private static double Ms(LongHistogram histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency, 1);

    private static void Log(string message) => Console.Error.WriteLine($"presence: {message}");

    /// <summary>An HS256 token for <paramref name="user"/>, valid for an hour.</summary>
    internal static string Mint(string secret, string user)
    {
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = B64(Encoding.UTF8.GetBytes($$"""{"sub":"{{user}}","exp":{{exp}}}"""));
        var signature = B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }

    internal static async Task<ClientWebSocket> ConnectAsync(Uri url, string secret, string user, string channel, string presence)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Mint(secret, user));
        socket.Options.SetBuffer(1024, 1024);
        using var timeout = new CancellationTokenSource(s_timeout);
        var ws = new UriBuilder(url) { Scheme = url.Scheme == "https" ? "wss" : "ws", Path = "/v1/ws" }.Uri;
        await socket.ConnectAsync(ws, timeout.Token);
        var subscribe = Encoding.UTF8.GetBytes($$"""{"id":1,"op":"subscribe","channel":"{{channel}}","presence":"{{presence}}"}""");
        await socket.SendAsync(subscribe, WebSocketMessageType.Text, true, timeout.Token);
        return socket;
    }

    private sealed class Member(ClientWebSocket socket, string user, Task reader)
    {
        public string User { get; } = user;

        public static async Task<Member> OpenAsync(Uri url, string secret, string user, string channel, string presence)
        {
            var socket = await ConnectAsync(url, secret, user, channel, presence);
            return new Member(socket, user, DrainAsync(socket));
        }

        public async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(s_timeout);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                await reader.WaitAsync(timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
            {
            }

            socket.Dispose();
        }

        private static async Task DrainAsync(ClientWebSocket socket)
        {
            var buffer = new byte[1024];
            try
            {
                while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
                {
                }
            }
            catch (WebSocketException)
            {
            }
        }
    }

    private sealed class Watcher
    {
        private readonly ClientWebSocket _socket;
        private readonly ConcurrentDictionary<string, long> _actions;
        private readonly LongHistogram _joins;
        private readonly LongHistogram _leaves;
        private readonly Task _reader;
        private long _seq = -1;

        private Watcher(ClientWebSocket socket, ConcurrentDictionary<string, long> actions, LongHistogram joins, LongHistogram leaves)
        {
            _socket = socket;
            _actions = actions;
            _joins = joins;
            _leaves = leaves;
            _reader = ReadAsync();
        }

        public long Diffs;
        public long Counts;
        public long Bytes;
        public long Gaps;

        public static async Task<Watcher> OpenAsync(Uri url, string secret, string user, string channel, ConcurrentDictionary<string, long> actions, LongHistogram joins, LongHistogram leaves) =>
            new(await ConnectAsync(url, secret, user, channel, "list"), actions, joins, leaves);

        public void Reset()
        {
            Interlocked.Exchange(ref Diffs, 0);
            Interlocked.Exchange(ref Counts, 0);
            Interlocked.Exchange(ref Bytes, 0);
        }

        public async Task CloseAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(s_timeout);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                await _reader.WaitAsync(timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
            {
            }

            _socket.Dispose();
        }

        private async Task ReadAsync()
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            try
            {
                while (true)
                {
                    buffer.ResetWrittenCount();
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), CancellationToken.None);
                        buffer.Advance(result.Count);
                    }
                    while (!result.EndOfMessage);
                    if (result.MessageType == WebSocketMessageType.Close)
                        return;
                    var now = Stopwatch.GetTimestamp();
                    foreach (var line in Encoding.UTF8.GetString(buffer.WrittenSpan).Split('\n'))
                        Handle(line, now);
                }
            }
            catch (WebSocketException)
            {
            }
        }

        private void Handle(string line, long now)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString();
            if (type == "presence_count")
            {
                Interlocked.Increment(ref Counts);
                Interlocked.Add(ref Bytes, line.Length);
                return;
            }

            if (type is "presence_state" or "presence_snapshot")
            {
                if (root.TryGetProperty("seq", out var seq))
                    _seq = seq.GetInt64();
                return;
            }

            if (type != "presence")
                return;
            Interlocked.Increment(ref Diffs);
            Interlocked.Add(ref Bytes, line.Length);
            if (_seq >= 0 && root.GetProperty("from").GetInt64() != _seq)
                Interlocked.Increment(ref Gaps);
            _seq = root.GetProperty("to").GetInt64();
            foreach (var join in root.GetProperty("join").EnumerateArray())
                Record(join.GetProperty("user").GetString() + ":join", now, _joins);
            foreach (var leave in root.GetProperty("leave").EnumerateArray())
                Record(leave.GetString() + ":leave", now, _leaves);
        }

        private void Record(string key, long now, LongHistogram histogram)
        {
            if (!_actions.TryGetValue(key, out var at))
                return;
            lock (histogram)
                histogram.RecordValue(Math.Max(0, now - at));
        }
    }
}
