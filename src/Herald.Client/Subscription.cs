using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Herald.Client.Internal;

namespace Herald.Client;

/// <summary>
/// One channel followed by a <see cref="HeraldClient"/>. Every publication reaches the application once,
/// in offset order — through <see cref="Received"/> and through <c>await foreach</c> — across reconnects
/// and transport changes; a lost position is announced with <see cref="SubscriptionBase.Reset"/>, never skipped silently.
/// </summary>
/// <remarks>
/// Until it has a consumer, a subscription holds what arrives, so nothing published between the
/// acknowledgement and the first handler or loop is missed: the first <see cref="Received"/> handler
/// gets the held publications at once; an <c>await foreach</c> starts with them. Handlers run on the
/// connection's reading thread: a slow handler slows the connection, and past the server's budget it
/// is closed as a slow consumer (3008) and resumed — nothing is lost. A loop that falls behind keeps its
/// publications queued in memory.
/// </remarks>
public sealed class Subscription<T> : SubscriptionBase, IAsyncEnumerable<Publication<T>>
{
    private readonly DataReader<T> reader;
    private Channel<Publication<T>>? queue = NewQueue();
    private EventHandler<Publication<T>>? received;
    private bool enumerating;
    private bool hadConsumer;

    internal Subscription(string channel, Position? since, DataReader<T> reader, IOwner owner, PresenceMode? presence = null)
        : base(channel, since, owner, presence) => this.reader = reader;

    /// <summary>Each publication, once, in offset order (on the connection's thread).</summary>
    public event EventHandler<Publication<T>>? Received
    {
        add
        {
            lock (Gate)
            {
                received += value;
                if (hadConsumer || enumerating || value is null)
                    return;
                hadConsumer = true;
                // The first handler takes what arrived before it, in order, before anything newer.
                var held = queue;
                queue = null;
                held?.Writer.TryComplete();
                while (held is not null && held.Reader.TryRead(out var publication))
                    Invoke(value, publication);
            }
        }

        remove
        {
            lock (Gate)
                received -= value;
        }
    }

    /// <summary>Yields each publication until the subscription ends (throws its failure when refused). One loop at a time.</summary>
    public async IAsyncEnumerator<Publication<T>> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        Channel<Publication<T>> mine;
        lock (Gate)
        {
            if (enumerating)
                throw new InvalidOperationException("A subscription is enumerated by one loop at a time.");
            enumerating = true;
            hadConsumer = true;
            mine = queue ??= NewQueue();
            if (!Active)
                mine.Writer.TryComplete(Failure);
        }

        try
        {
            while (await mine.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (mine.Reader.TryRead(out var publication))
                    yield return publication;
            }
        }
        finally
        {
            lock (Gate)
            {
                enumerating = false;
                // A loop left early stops the queueing: nothing holds publications nobody reads.
                if (ReferenceEquals(queue, mine))
                    queue = null;
            }
        }
    }

    internal override AcceptOutcome Deliver(ref WireMessage message, HeraldTransport transport)
    {
        lock (Gate)
        {
            if (!Active)
                return AcceptOutcome.Duplicate;
            var outcome = Tracker.Accept(message.Offset, message.Epoch, out var epoch);
            if (outcome != AcceptOutcome.Deliver)
                return outcome;
            var publication = Replies.Create(ref message, Channel, epoch, reader);
            queue?.Writer.TryWrite(publication);
            if (received is { } handler)
                Invoke(handler, publication);
            return outcome;
        }
    }

    private protected override void Finish(HeraldException? error)
    {
        queue?.Writer.TryComplete(error);
    }

    private void Invoke(EventHandler<Publication<T>> handler, Publication<T> publication)
    {
        try
        {
            handler(this, publication);
        }
#pragma warning disable CA1031 // An application handler's bug must not kill the connection that every channel shares.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Owner.HandlerFailed(e);
        }
    }

    private static Channel<Publication<T>> NewQueue() =>
        System.Threading.Channels.Channel.CreateUnbounded<Publication<T>>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
}
