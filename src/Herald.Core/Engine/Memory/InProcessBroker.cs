namespace Herald.Engine.Memory;

/// <summary>
/// The broker of a single node: the log's sink hands every committed publication straight to the
/// node, in the order the log committed it. Nothing travels between processes, so nothing can be
/// lost, repeated or reordered, and subscriptions need no confirmation.
/// </summary>
public sealed class InProcessBroker : IBroker, IPublicationSink
{
    private IBrokerHandler? _handler;

    public bool MayLoseMessages => false;

    public void Start(IBrokerHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
            throw new InvalidOperationException("The broker is already started.");
    }

    /// <summary>Called by the log on its commit path: hands the publication over and returns.</summary>
    public void OnPublished(Publication publication) => Volatile.Read(ref _handler)?.OnPublication(publication);

    // Every channel reaches the node; the node keeps only those it has local interest in.
    public ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channelEvent);
        Volatile.Read(ref _handler)?.OnEvent(channelEvent);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _handler, null);
        return ValueTask.CompletedTask;
    }
}
