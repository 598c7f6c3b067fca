using Herald.Engine;
using Herald.Engine.Memory;

namespace Herald.IntegrationTests.Transports.LongPoll;

/// <summary>The memory engine with its log's reads counted: how often a feature goes to the store.</summary>
internal sealed class CountingLog : IChannelLog
{
    private MemoryChannelLog? _inner;
    private long _reads;

    /// <summary>Reads and state reads since the log was created.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    private MemoryChannelLog Inner => _inner ?? throw new InvalidOperationException("The engine was not created.");

    public HeraldEngine CreateEngine(IServiceProvider services)
    {
        var engine = HeraldEngineExtensions.CreateMemory(services);
        _inner = (MemoryChannelLog)engine.Log;
        return engine with { Name = "counting", Log = this };
    }

    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) => Inner.AppendAsync(request, cancellationToken);

    public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return Inner.ReadAsync(channel, request, cancellationToken);
    }

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return Inner.GetStateAsync(channel, cancellationToken);
    }

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default) => Inner.RemoveAsync(channel, cancellationToken);

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => Inner.PingAsync(cancellationToken);

    public ValueTask DisposeAsync() => _inner?.DisposeAsync() ?? ValueTask.CompletedTask;
}
