namespace Herald.Engine;

/// <summary>
/// Hands each committed publication to several sinks in turn (the hub's fan-out, the held long
/// polls, and with the memory store the outbound webhook outbox), so the store still calls exactly
/// one <see cref="IPublicationSink"/>.
/// </summary>
internal sealed class CompositeSink(params IPublicationSink[] sinks) : IPublicationSink
{
    public void OnPublished(Publication publication)
    {
        foreach (var sink in sinks)
            sink.OnPublished(publication);
    }
}
