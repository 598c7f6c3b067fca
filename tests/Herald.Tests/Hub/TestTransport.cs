using System.Text.Json;
using Herald.Hub;

namespace Herald.Tests.Hub;

/// <summary>
/// An in-memory <see cref="ISessionTransport"/>: records every batch (the buffers themselves, not
/// copies, so tests can check they are shared), can be paused, or can never drain (a slow consumer).
/// </summary>
internal sealed class TestTransport(WireFormat format = WireFormat.Json) : ISessionTransport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly List<ReadOnlyMemory<byte>[]> _batches = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _gate;

    public WireFormat Format { get; } = format;

    public string Transport { get; init; } = "test";

    /// <summary>Every write blocks until cancelled: the client never reads.</summary>
    public bool NeverDrain { get; init; }

    public TaskCompletionSource<DisconnectReason> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a write has started (and, when paused, is blocked).</summary>
    public TaskCompletionSource WriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<ReadOnlyMemory<byte>[]> Batches
    {
        get
        {
            lock (_lock)
                return [.. _batches];
        }
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> Messages
    {
        get
        {
            lock (_lock)
                return [.. _batches.SelectMany(b => b)];
        }
    }

    public void Pause()
    {
        lock (_lock)
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Resume()
    {
        TaskCompletionSource? gate;
        lock (_lock)
        {
            gate = _gate;
            _gate = null;
        }

        gate?.TrySetResult();
    }

    public async ValueTask WriteAsync(IReadOnlyList<OutboundMessage> batch, CancellationToken cancellationToken)
    {
        var copy = batch.Select(m => m.Bytes).ToArray();
        Task? gate;
        lock (_lock)
            gate = _gate?.Task;

        WriteStarted.TrySetResult();
        if (NeverDrain)
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        if (gate is not null)
            await gate.WaitAsync(cancellationToken);

        TaskCompletionSource changed;
        lock (_lock)
        {
            _batches.Add(copy);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public ValueTask CloseAsync(DisconnectReason reason, CancellationToken cancellationToken)
    {
        Closed.TrySetResult(reason);
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits (≤ 30 s) until at least <paramref name="count"/> messages were written.</summary>
    public async Task WaitForMessagesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_batches.Sum(b => b.Length) >= count)
                    return;
                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Expected {count} messages, got {Messages.Count} within {Timeout}.");
            }
        }
    }

    /// <summary>The offsets of the publications written for <paramref name="channel"/>, in order (Json/Ndjson formats).</summary>
    public List<long> Offsets(string channel)
    {
        var offsets = new List<long>();
        foreach (var message in Messages)
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.GetProperty("type").GetString() == "publication" && root.GetProperty("channel").GetString() == channel)
                offsets.Add(root.GetProperty("offset").GetInt64());
        }

        return offsets;
    }
}
