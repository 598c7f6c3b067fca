using System.Collections.Concurrent;

namespace Herald.Engine.Memory;

/// <summary>
/// A channel log kept in process memory: a bounded ring of the newest publications per channel.
/// History does not survive the process, so every instance gives each channel a fresh random
/// epoch and a client resuming with a position from before a restart is told to reset.
/// </summary>
/// <remarks>
/// One lock per channel serializes appends; <see cref="IPublicationSink.OnPublished"/> runs
/// inside that lock, so the sink sees a channel's publications in offset order.
/// </remarks>
public sealed partial class MemoryChannelLog : IChannelLog
{
    private readonly ConcurrentDictionary<string, ChannelState> channels = new(StringComparer.Ordinal);
    private readonly IPublicationSink? sink;
    private readonly TimeProvider time;
    private volatile bool disposed;

    public MemoryChannelLog(IPublicationSink? sink = null, TimeProvider? time = null)
    {
        this.sink = sink;
        this.time = time ?? TimeProvider.System;
    }

    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Channel);
        ArgumentNullException.ThrowIfNull(request.Retention);
        ObjectDisposedException.ThrowIf(disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // Hashed outside the channel's lock: only the comparison needs it.
        var fingerprint = request.IdempotencyKey is null ? null : IdempotencyFingerprint.Of(request);
        while (true)
        {
            var state = channels.GetOrAdd(request.Channel, static _ => new ChannelState(Epochs.New()));
            lock (state)
            {
                // A concurrent RemoveAsync detached this state: start over with a fresh one.
                if (state.Removed)
                    continue;

                return ValueTask.FromResult(state.Append(request, fingerprint, time.GetUtcNow(), sink));
            }
        }
    }

    public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!channels.TryGetValue(channel, out var state))
            return ValueTask.FromResult(new ReadResult([], StreamState.Empty));

        lock (state)
        {
            if (state.Removed)
                return ValueTask.FromResult(new ReadResult([], StreamState.Empty));

            return ValueTask.FromResult(state.Read(request, time.GetUtcNow()));
        }
    }

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!channels.TryGetValue(channel, out var state))
            return ValueTask.FromResult(StreamState.Empty);

        lock (state)
        {
            if (state.Removed)
                return ValueTask.FromResult(StreamState.Empty);

            state.Expire(time.GetUtcNow());
            return ValueTask.FromResult(state.State);
        }
    }

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (channels.TryGetValue(channel, out var state))
        {
            lock (state)
            {
                state.Removed = true;
                channels.TryRemove(new KeyValuePair<string, ChannelState>(channel, state));
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(!disposed);

    public ValueTask DisposeAsync()
    {
        disposed = true;
        channels.Clear();
        return ValueTask.CompletedTask;
    }

}
