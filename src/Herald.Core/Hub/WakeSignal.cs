using System.Threading.Tasks.Sources;

namespace Herald.Hub;

/// <summary>
/// Wakes one waiter (a session's writer loop) when producers have queued something. About 80
/// bytes per session instead of a one-slot <c>Channel&lt;T&gt;</c>'s ~700, and no allocation per wait:
/// with tens of thousands of idle connections per node, that difference is most of a session's
/// own footprint.
/// </summary>
/// <remarks>
/// Many producers call <see cref="Set"/>; one consumer awaits <see cref="WaitAsync"/> and never
/// calls it again before that wait completes. <see cref="Complete"/> ends it: waits then return false.
/// </remarks>
internal sealed class WakeSignal : IValueTaskSource<bool>
{
    private const int Idle = 0;
    private const int Signaled = 1;
    private const int Waiting = 2;
    private const int Completed = 3;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    /// <summary>Wakes the waiter, or lets its next wait return at once.</summary>
    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Idle when Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
                case Signaled or Completed:
                    return;
            }
        }
    }

    /// <summary>Forgets a pending signal: the consumer is about to take everything anyway.</summary>
    public void Consume() => Interlocked.CompareExchange(ref _state, Idle, Signaled);

    /// <summary>Ends the signal: the current and every later wait return false.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _state, Completed) == Waiting)
            _core.SetResult(false);
    }

    /// <summary>True when signaled, false once completed.</summary>
    public ValueTask<bool> WaitAsync()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signaled when Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled:
                    return new ValueTask<bool>(true);
                case Completed:
                    return new ValueTask<bool>(false);
                case Idle:
                    _core.Reset();
                    if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
                        return new ValueTask<bool>(this, _core.Version);
                    break;
            }
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
