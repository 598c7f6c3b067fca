namespace Herald.Hub;

/// <summary>The outcome of <see cref="OutboundQueue.TryEnqueue"/>.</summary>
internal enum EnqueueResult
{
    Accepted,

    /// <summary>The byte budget would have been exceeded: the queue is now closed and emptied.</summary>
    Overflow,

    /// <summary>The queue was already closed.</summary>
    Closed,
}

/// <summary>
/// A session's outbound messages, bounded in bytes. Many producers (the hub's fan-out, replies,
/// history replay), one consumer (the session's writer loop), which takes everything queued at once.
/// </summary>
/// <remarks>
/// Entries hold <see cref="ReadOnlyMemory{T}"/> views of shared, already encoded arrays, stored in a
/// reused list, so enqueuing allocates nothing once the list has grown to the session's burst size.
/// The budget counts what waits in the queue, not the batch the writer is writing: like
/// Centrifuge's writer, a session holds at most the budget plus one batch in flight.
/// </remarks>
internal sealed class OutboundQueue
{
    // A list that grew past this during a burst is replaced rather than kept for the session's life.
    private const int RetainedCapacity = 4096;

    private readonly Lock _lock = new();
    private readonly int _maxBytes;

    // Wakes the writer loop; its continuation runs on the thread pool, never on the publishing thread.
    private readonly WakeSignal _signal = new();

    private List<OutboundMessage> _pending = [];
    private long _pendingBytes;
    private bool _closed;
    private TaskCompletionSource<bool>? _spaceAvailable;

    public OutboundQueue(int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        _maxBytes = maxBytes;
    }

    public int MaxBytes => _maxBytes;

    /// <summary>Bytes waiting for the writer.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_lock)
                return _pendingBytes;
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (_lock)
                return _closed;
        }
    }

    /// <summary>Queues <paramref name="message"/> unless that would exceed the budget, in which case the queue closes.</summary>
    public EnqueueResult TryEnqueue(OutboundMessage message)
    {
        bool wake;
        lock (_lock)
        {
            if (_closed)
                return EnqueueResult.Closed;

            if (_pendingBytes + message.Bytes.Length > _maxBytes)
            {
                var waiters = CloseCore();
                waiters?.TrySetResult(false);
                return EnqueueResult.Overflow;
            }

            _pending.Add(message);
            _pendingBytes += message.Bytes.Length;
            wake = _pending.Count == 1;
        }

        // Only the first message after a drain wakes the writer; the rest ride along in its batch.
        if (wake)
            _signal.Set();
        return EnqueueResult.Accepted;
    }

    /// <summary>
    /// Queues <paramref name="message"/>, waiting while the queue is over budget instead of failing:
    /// for history replay, whose size the client does not control the pace of. A message larger
    /// than the whole budget is accepted once the queue is empty. Returns false when the queue closed.
    /// </summary>
    public async ValueTask<bool> EnqueueWhenSpaceAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<bool> space;
            lock (_lock)
            {
                if (_closed)
                    return false;

                if (_pending.Count == 0 || _pendingBytes + message.Bytes.Length <= _maxBytes)
                {
                    _pending.Add(message);
                    _pendingBytes += message.Bytes.Length;
                    if (_pending.Count == 1)
                        _signal.Set();
                    return true;
                }

                _spaceAvailable ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _spaceAvailable.Task;
            }

            await space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Waits until there is something to take; false once the queue is closed.</summary>
    public ValueTask<bool> WaitToReadAsync() => _signal.WaitAsync();

    /// <summary>
    /// Swaps everything queued into <paramref name="batch"/> (which must be empty) without copying;
    /// the writer hands <paramref name="batch"/> to the transport and clears it afterwards.
    /// </summary>
    public void TakeAll(ref List<OutboundMessage> batch)
    {
        TaskCompletionSource<bool>? waiters;
        _signal.Consume();
        lock (_lock)
        {
            if (_closed || _pending.Count == 0)
                return;

            var empty = batch.Capacity > RetainedCapacity ? [] : batch;
            batch = _pending;
            _pending = empty;
            _pendingBytes = 0;
            waiters = _spaceAvailable;
            _spaceAvailable = null;
        }

        waiters?.TrySetResult(true);
    }

    /// <summary>Closes the queue and drops what is queued; producers fail from now on.</summary>
    public void Close()
    {
        TaskCompletionSource<bool>? waiters;
        lock (_lock)
        {
            if (_closed)
                return;
            waiters = CloseCore();
        }

        waiters?.TrySetResult(false);
    }

    private TaskCompletionSource<bool>? CloseCore()
    {
        _closed = true;
        _pending.Clear();
        _pendingBytes = 0;
        _signal.Complete();
        var waiters = _spaceAvailable;
        _spaceAvailable = null;
        return waiters;
    }

    /// <summary>Drops what is queued without closing; lets benchmarks measure fan-out without a writer.</summary>
    internal void DiscardPending()
    {
        lock (_lock)
        {
            _pending.Clear();
            _pendingBytes = 0;
        }
    }
}
