using Herald.Engine;

namespace Herald.Specification;

/// <summary>Records what a broker handed to its node, in arrival order, and lets a test wait for it.</summary>
public sealed class RecordingHandler : IBrokerHandler
{
    private readonly List<Publication> _publications = [];
    private readonly List<ChannelEvent> _events = [];
    private int _reconnects;

    public IReadOnlyList<Publication> Publications
    {
        get
        {
            lock (_publications)
                return [.. _publications];
        }
    }

    public IReadOnlyList<ChannelEvent> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    public int Reconnects => Volatile.Read(ref _reconnects);

    public void OnPublication(Publication publication)
    {
        lock (_publications)
            _publications.Add(publication);
    }

    public void OnEvent(ChannelEvent channelEvent)
    {
        lock (_events)
            _events.Add(channelEvent);
    }

    public void OnReconnected() => Interlocked.Increment(ref _reconnects);

    public IReadOnlyList<long> OffsetsOf(string channel) =>
        Publications.Where(p => p.Channel == channel).Select(p => p.Offset).ToList();

    /// <summary>Polls until <paramref name="done"/> holds, failing with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {timeout} waiting for {what}.");
            await Task.Delay(10);
        }
    }
}
