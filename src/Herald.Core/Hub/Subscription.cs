using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// One session's subscription to one channel, as the hub sees it. Holds the position last handed
/// to the session so that each offset reaches it once, in order, whatever races the subscribe.
/// </summary>
/// <remarks>
/// States: <em>buffering</em> (registered in the hub while history is read: live publications are
/// held, bounded by the session's byte budget), then <em>live</em>, then <em>stopped</em>. All
/// transitions and every delivery happen under the session queue's lock (<see cref="OutboundQueue.Gate"/>),
/// so once <see cref="Stop"/> returns nothing more is enqueued for this channel, and a delivery
/// takes one lock, not one here and another in the queue.
/// </remarks>
internal sealed class Subscription
{
    private readonly Session _session;
    private readonly OutboundQueue _queue;
    private readonly WireFormat _format;
    private List<EncodedPublication>? _buffer = [];
    private long _bufferedBytes;
    private string _epoch = string.Empty;
    private long _lastOffset;
    private bool _stopped;

    public Subscription(Session session, string channel)
    {
        _session = session;
        _queue = session.Queue;
        _format = session.Format;
        Channel = channel;
    }

    public string Channel { get; }

    /// <summary>Where the hub's <see cref="SubscriberList"/> keeps this subscription; -1 when not registered. Changed under the hub shard's lock.</summary>
    public int HubSlot { get; set; } = -1;

    public Session Session => _session;

    public bool IsStopped
    {
        get
        {
            lock (_queue.Gate)
                return _stopped;
        }
    }

    /// <summary>The hub's fan-out path: enqueue (or, while recovering, hold) one publication.</summary>
    public void Deliver(EncodedPublication publication)
    {
        EnqueueResult result;
        bool wake;
        lock (_queue.Gate)
        {
            if (_stopped)
                return;

            if (_buffer is not null)
            {
                Hold(publication);
                return;
            }

            if (!Advance(publication.Publication))
                return;

            result = _queue.EnqueueLocked(new OutboundMessage(publication.GetBytes(_format), publication.Publication), out wake);
        }

        _session.Settle(result, wake, Channel);
    }

    /// <summary>
    /// The hub's path for an ephemeral event: enqueued at once unless stopped — also while history is
    /// replayed, since it has no position to keep in order with.
    /// </summary>
    public void DeliverEvent(EncodedEvent channelEvent)
    {
        EnqueueResult result;
        bool wake;
        lock (_queue.Gate)
        {
            if (_stopped)
                return;
            result = _queue.EnqueueLocked(new OutboundMessage(channelEvent.GetBytes(_format)), out wake);
        }

        _session.Settle(result, wake, Channel);
    }

    /// <summary>Sets the position history replay reached: buffered publications at or before it are skipped.</summary>
    public void StartAt(string epoch, long offset)
    {
        lock (_queue.Gate)
        {
            _epoch = epoch;
            _lastOffset = offset;
        }
    }

    /// <summary>Releases the buffer (offsets not yet sent, in order) and delivers live from now on.</summary>
    public void GoLive()
    {
        lock (_queue.Gate)
        {
            if (_stopped || _buffer is null)
                return;

            foreach (var publication in _buffer)
            {
                if (Advance(publication.Publication) && !_session.EnqueueLive(new OutboundMessage(publication.GetBytes(_format), publication.Publication), Channel))
                    break;
            }

            _buffer = null;
            _bufferedBytes = 0;
        }
    }

    public void Stop()
    {
        lock (_queue.Gate)
        {
            _stopped = true;
            _buffer = null;
        }
    }

    private void Hold(EncodedPublication publication)
    {
        var size = publication.GetBytes(_format).Length;
        if (_bufferedBytes + size > _session.MaxQueuedBytes)
        {
            // Live traffic outran the replay: the same rule as a full queue.
            _stopped = true;
            _buffer = null;
            _session.OnOverflow(Channel);
            return;
        }

        _buffer!.Add(publication);
        _bufferedBytes += size;
    }

    private bool Advance(Publication publication)
    {
        if (!string.Equals(publication.Epoch, _epoch, StringComparison.Ordinal))
        {
            if (publication.Offset != 1)
            {
                // Another generation from its middle (or a straggler of an older one): the offsets
                // before it never reached this subscription, and nobody told it of a reset. The
                // node resets its readers when it sees history go; this is the last line, so that
                // whatever race got here, the client is told too: the session closes with
                // InsufficientState and the client resumes from its position, to an explicit reset.
                _stopped = true;
                _buffer = null;
                _session.OnEpochSkipped(Channel, _epoch, _lastOffset, publication.Epoch, publication.Offset);
                return false;
            }

            // A new generation of the log from its start (history removed, store restarted):
            // offsets restart, and the client sees the epoch change on the publication itself.
            _epoch = publication.Epoch;
            _lastOffset = publication.Offset;
            return true;
        }

        if (publication.Offset <= _lastOffset)
            return false;

        _lastOffset = publication.Offset;
        return true;
    }
}
