using Herald.Engine;

namespace Herald.Specification;

/// <summary>Records what a channel log published, in the order the log called it.</summary>
public sealed class RecordingSink : IPublicationSink
{
    private readonly List<Publication> published = [];

    public void OnPublished(Publication publication)
    {
        lock (published)
            published.Add(publication);
    }

    public IReadOnlyList<Publication> Published
    {
        get
        {
            lock (published)
                return [.. published];
        }
    }

    public IReadOnlyList<long> OffsetsOf(string channel) =>
        Published.Where(p => p.Channel == channel).Select(p => p.Offset).ToList();
}
