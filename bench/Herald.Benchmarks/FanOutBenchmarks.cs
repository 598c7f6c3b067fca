using BenchmarkDotNet.Attributes;
using Herald.Hub;
using Herald.Engine;

namespace Herald.Benchmarks;

/// <summary>
/// One publication fanned out by the hub to N sessions on one channel: the hot path of
/// "encode once, enqueue a shared buffer per recipient". Allocated bytes per operation must not
/// grow with N (the target is O(1) in the number of recipients).
/// </summary>
/// <remarks>
/// Sessions are built without their writer loop so the measurement is the fan-out alone, not the
/// thread pool; each operation ends by emptying every queue (no allocation, O(N) time), which
/// stands in for the writers and keeps the reused queue lists at a steady size.
/// The operation includes creating the <see cref="Publication"/> (as the log does per append)
/// and encoding it once as JSON.
/// </remarks>
[MemoryDiagnoser]
[ShortRunJob]
public class FanOutBenchmarks
{
    private const string Channel = "chat:lobby";

    private readonly ReadOnlyMemory<byte> _data = """{"text":"hello, world","user":"alice"}"""u8.ToArray();
    private ChannelHub _hub = null!;
    private Session[] _sessions = [];
    private long _offset;

    [Params(100, 1_000, 10_000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _hub = new ChannelHub();
        _sessions = new Session[Subscribers];
        var log = new EmptyLog();
        for (var i = 0; i < Subscribers; i++)
        {
            _sessions[i] = new Session(NoopTransport.Instance, _hub, 1024 * 1024, logger: null, startWriter: false);
            _sessions[i].SubscribeAsync(Channel, since: null, log).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var session in _sessions)
            session.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public void FanOut()
    {
        _hub.OnPublished(new Publication
        {
            Channel = Channel,
            Offset = ++_offset,
            Epoch = "bench",
            Id = "0197a1b2c3d4e5f60718293a4b5c6d7e",
            Time = DateTimeOffset.UnixEpoch,
            Data = _data,
        });

        foreach (var session in _sessions)
            session.Queue.DiscardPending();
    }

    private sealed class NoopTransport : ISessionTransport
    {
        public static readonly NoopTransport Instance = new();

        public WireFormat Format => WireFormat.Json;

        public ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>A log with nothing in it: subscribing with no position only asks for the state.</summary>
    private sealed class EmptyLog : IChannelLog
    {
        public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(new ReadResult([], StreamState.Empty));

        public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(StreamState.Empty);

        public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
