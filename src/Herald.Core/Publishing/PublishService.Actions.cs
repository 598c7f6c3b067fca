using Herald.Channels;
using Herald.Engine;

namespace Herald.Publishing;

// Threads: a countable publication in a thread makes its parent's summary due (ThreadSummaries).
public sealed partial class PublishService : IAsyncDisposable
{
    private ThreadSummaries? _threadSummaries;

    /// <summary>The node's thread summaries, made on the first message in a thread.</summary>
    internal ThreadSummaries Threads =>
        LazyInitializer.EnsureInitialized(ref _threadSummaries, () => new ThreadSummaries(PublishAsync, _time, _logger));

    /// <summary>Stops the thread summaries, publishing what each holds once more.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _threadSummaries) is { } threads)
            await threads.DisposeAsync().ConfigureAwait(false);
    }

    private void OnAppended(Publication publication, ChannelPolicy policy)
    {
        if (ThreadChannel.IsThread(publication.Channel))
            Threads.OnPublished(publication, policy);
    }
}
