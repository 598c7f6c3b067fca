using System.Threading.Tasks.Sources;

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
/// <para>
/// Entries hold <see cref="ReadOnlyMemory{T}"/> views of shared, already encoded arrays, stored in a
/// reused list, so enqueuing allocates nothing once the list has grown to the session's burst size.
/// The budget counts what waits in the queue, not the batch the writer is writing: like
/// Centrifuge's writer, a session holds at most the budget plus one batch in flight.
/// </para>
/// <para>
/// The queue's own monitor is the session's delivery lock: <see cref="Subscription"/> holds it while
/// it decides and enqueues (<see cref="EnqueueLocked"/>), so a delivery to one of 5,000 sessions
/// touches the subscription, this object and the list's array — no separate lock or signal object,
/// which on a fan-out whose sessions are cold in the cache is most of its cost. The queue is also
/// the writer's wake-up (<see cref="IValueTaskSource{TResult}"/>): about 80 bytes per session and no
/// allocation per wait, where a one-slot <c>Channel&lt;T&gt;</c> costs ~700.
/// </para>
/// <para>
/// A wake-up is the queue itself put on the thread pool's global queue (<see cref="IThreadPoolWorkItem"/>):
/// one hop, no allocation, and first in, first out, so a fan-out's thousands of writers run in
/// turn and each takes whatever reached it meanwhile — never on the publishing thread.
/// </para>
/// </remarks>
internal sealed class OutboundQueue : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    // A list that grew past this during a burst is replaced rather than kept for the session's life.
    private const int RetainedCapacity = 4096;

    // The writer's wake-up states: one waiter (the writer loop), many wakers.
    private const int Idle = 0;
    private const int Signaled = 1;
    private const int Waiting = 2;
    private const int Completed = 3;

    private readonly int _maxBytes;
    // Completed from Execute, on a thread-pool thread already: the writer continues inline there.
    private ManualResetValueTaskSourceCore<bool> _core;
    private int _signal;

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

    /// <summary>The lock that guards the queue; a subscription holds it across its checks and <see cref="EnqueueLocked"/>.</summary>
    public object Gate => this;

    /// <summary>Bytes waiting for the writer.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (Gate)
                return _pendingBytes;
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (Gate)
                return _closed;
        }
    }

    /// <summary>
    /// Queues <paramref name="message"/> unless that would exceed the budget, in which case the queue
    /// closes. The caller holds <see cref="Gate"/>; when <paramref name="wake"/> comes back true it
    /// must call <see cref="Wake"/> once it has released the lock.
    /// </summary>
    public EnqueueResult EnqueueLocked(in OutboundMessage message, out bool wake)
    {
        wake = false;
        if (_closed)
            return EnqueueResult.Closed;

        if (_pendingBytes + message.Bytes.Length > _maxBytes)
        {
            var waiters = CloseCore();
            waiters?.TrySetResult(false);
            return EnqueueResult.Overflow;
        }

        wake = Append(message);
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
            Task<bool>? space = null;
            var wake = false;
            lock (Gate)
            {
                if (_closed)
                    return false;

                if (_pending.Count == 0 || _pendingBytes + message.Bytes.Length <= _maxBytes)
                {
                    wake = Append(message);
                }
                else
                {
                    _spaceAvailable ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    space = _spaceAvailable.Task;
                }
            }

            if (space is null)
            {
                if (wake)
                    Wake();
                return true;
            }

            await space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Under <see cref="Gate"/>: true for the first message after a drain, the only one that wakes the writer (the rest ride along in its batch).</summary>
    private bool Append(in OutboundMessage message)
    {
        _pending.Add(message);
        _pendingBytes += message.Bytes.Length;
        return _pending.Count == 1;
    }

    /// <summary>Waits until there is something to take; false once the queue is closed.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        while (true)
        {
            switch (Volatile.Read(ref _signal))
            {
                case Signaled when Interlocked.CompareExchange(ref _signal, Idle, Signaled) == Signaled:
                    return new ValueTask<bool>(true);
                case Completed:
                    return new ValueTask<bool>(false);
                case Idle:
                    _core.Reset();
                    if (Interlocked.CompareExchange(ref _signal, Waiting, Idle) == Idle)
                        return new ValueTask<bool>(this, _core.Version);
                    break;
            }
        }
    }

    /// <summary>Wakes the writer, or lets its next wait return at once. Called without <see cref="Gate"/> held.</summary>
    public void Wake()
    {
        while (true)
        {
            switch (Volatile.Read(ref _signal))
            {
                case Idle when Interlocked.CompareExchange(ref _signal, Signaled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _signal, Idle, Waiting) == Waiting:
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                    return;
                case Signaled or Completed:
                    return;
            }
        }
    }

    /// <summary>
    /// Swaps everything queued into <paramref name="batch"/> (which must be empty) without copying;
    /// the writer hands <paramref name="batch"/> to the transport and clears it afterwards.
    /// </summary>
    public void TakeAll(ref List<OutboundMessage> batch)
    {
        TaskCompletionSource<bool>? waiters;

        // A signal raised before this point is for messages taken now: forget it.
        Interlocked.CompareExchange(ref _signal, Idle, Signaled);
        lock (Gate)
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
        lock (Gate)
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
        if (Interlocked.Exchange(ref _signal, Completed) == Waiting)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        var waiters = _spaceAvailable;
        _spaceAvailable = null;
        return waiters;
    }

    /// <summary>Drops what is queued without closing; lets benchmarks measure fan-out without a writer.</summary>
    internal void DiscardPending()
    {
        lock (Gate)
        {
            _pending.Clear();
            _pendingBytes = 0;
        }
    }

    /// <summary>Resumes the waiting writer: false when the queue completed meanwhile.</summary>
    void IThreadPoolWorkItem.Execute() => _core.SetResult(Volatile.Read(ref _signal) != Completed);

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
