namespace Herald.Client.Internal;

/// <summary>What netstandard2.1 lacks of the newer BCL, in the shape the net8.0 build calls in-box.</summary>
internal static class Polyfills
{
    private static readonly object RandomGate = new();
    private static readonly Random SharedRandom = new();

    /// <summary>A uniform double in [0, 1), safe from any thread.</summary>
    public static double NextDouble()
    {
#if NETSTANDARD2_1
        lock (RandomGate)
            return SharedRandom.NextDouble();
#else
        return Random.Shared.NextDouble();
#endif
    }

    /// <summary>Monotonic milliseconds.</summary>
    public static long NowMs() => System.Diagnostics.Stopwatch.GetTimestamp() * 1000 / System.Diagnostics.Stopwatch.Frequency;

#if NETSTANDARD2_1
    public static async Task WaitAsync(this Task task, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled || task.IsCompleted)
        {
            await task.ConfigureAwait(false);
            return;
        }

        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(static s => ((TaskCompletionSource<bool>)s!).TrySetResult(true), cancelled))
        {
            if (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false) != task)
                throw new OperationCanceledException(cancellationToken);
        }

        await task.ConfigureAwait(false);
    }

    public static async Task<T> WaitAsync<T>(this Task<T> task, CancellationToken cancellationToken)
    {
        await ((Task)task).WaitAsync(cancellationToken).ConfigureAwait(false);
        return await task.ConfigureAwait(false);
    }

    public static Task<Stream> ReadAsStreamAsync(this HttpContent content, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        return content.ReadAsStreamAsync();
    }

    public static Task<string> ReadAsStringAsync(this HttpContent content, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        return content.ReadAsStringAsync();
    }

    public static Task<byte[]> ReadAsByteArrayAsync(this HttpContent content, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        return content.ReadAsByteArrayAsync();
    }
#endif
}
