using System.Buffers.Text;
using System.Text;

namespace Herald.LoadGen;

/// <summary>
/// One subscribed connection's counters. Only its own receive loop writes them, so they need no
/// locks; between steps (when nothing is published) the process reads and sums them.
/// </summary>
internal sealed class Subscriber(string channel)
{
    public string Channel { get; } = channel;

    /// <summary>Completes true when the server acknowledged the subscription, false when the connection failed first.</summary>
    public TaskCompletionSource<bool> Acked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsAcked => Acked.Task is { IsCompletedSuccessfully: true, Result: true };

    /// <summary>The newest offset (sequence number) received, or given by the subscribe reply; -1 before either.</summary>
    public long Last { get; set; } = -1;

    public long Received { get; set; }

    public long Gaps { get; set; }

    public long Duplicates { get; set; }

    /// <summary>Explicit resets: the server said the position fell out of its history (<c>recovered: false</c>) and went on from its newest; never counted as gaps.</summary>
    public long Resets { get; set; }

    /// <summary>WebSocket messages (streams: socket reads; polls: answers) that carried at least one publication, and the publications in them.</summary>
    public long Frames { get; set; }

    public long FramePublications { get; set; }

    public long LastReceivedTicks { get; set; }

    public bool Ended { get; set; }

    public string? Error { get; set; }

    public Task? Task { get; set; }

    /// <summary>A message the server sent that needs an answer (Herald's <c>{"type":"ping"}</c>).</summary>
    public bool PingPending { get; set; }

    /// <summary>The connection, for a scenario that also sends on it (chat).</summary>
    public Wire.Connection? Connection { get; set; }

    /// <summary>Messages carry their sender's own numbering (<see cref="OnSequenced"/>) instead of a server offset: chat, and SignalR.</summary>
    public bool Sequenced { get; init; }

    /// <summary>Chat and per-publisher sequences: the last sequence number seen from each sender (index = sender).</summary>
    public long[] SenderLast { get; set; } = [];

    /// <summary>Counts one frame (a WebSocket message, a stream read, a poll answer) when publications arrived since <paramref name="receivedBefore"/>, which moves on.</summary>
    public void CountFrame(ref long receivedBefore)
    {
        if (Received <= receivedBefore)
            return;
        Frames++;
        FramePublications += Received - receivedBefore;
        receivedBefore = Received;
    }

    /// <summary>One Herald JSON message (also RawBroadcaster's): a publication, a subscribe reply, a heartbeat, an error or a goodbye.</summary>
    public bool OnMessage(ReadOnlySpan<byte> json, long now)
    {
        var head = json[..Math.Min(json.Length, 256)];
        // WebSocket pushes start with the type; NDJSON lines put the cursor first.
        if (json.StartsWith("{\"type\":\"publication\""u8) || head.IndexOf("\"type\":\"publication\""u8) >= 0)
        {
            if (Sequenced)
                OnSequenced(json, now, "\"w\":"u8, "\"s\":"u8, "\"t\":"u8);
            else
                OnPublication(json, now);
            return true;
        }

        if (head.IndexOf("\"type\":\"ping\""u8) >= 0)
            PingPending = true;
        else if (head.IndexOf("\"type\":\"subscribed\""u8) >= 0)
            OnSubscribed(json);
        else if (head.IndexOf("\"type\":\"error\""u8) >= 0 || head.IndexOf("\"type\":\"disconnect\""u8) >= 0)
            Error ??= Encoding.UTF8.GetString(json[..Math.Min(json.Length, 300)]);
        return false;
    }

    /// <summary>The server skipped ahead explicitly: the next publication starts a new run instead of being checked against the last.</summary>
    public void OnReset()
    {
        Resets++;
        Last = -1;
    }

    public void OnSubscribed(ReadOnlySpan<byte> json)
    {
        if (Last < 0)
            Last = Sequenced ? 0 : Math.Max(0, Number(json, "\"offset\":"u8));
        Acked.TrySetResult(true);
    }

    /// <summary>A publication with a server-assigned <c>"offset"</c> and the send time at <c>"data":{"t":</c>.</summary>
    public void OnPublication(ReadOnlySpan<byte> json, long now)
    {
        var offset = Number(json, "\"offset\":"u8);
        if (Last >= 0 && offset != Last + 1)
        {
            if (offset > Last + 1)
                Gaps += offset - Last - 1;
            else
                Duplicates++;
        }

        if (offset > Last)
            Last = offset;
        Received++;
        LastReceivedTicks = now;
        var sent = Number(json, "\"data\":{\"t\":"u8);
        if (sent > 0)
            Latency.Record(now - sent);
    }

    /// <summary>
    /// A message numbered by its sender (<paramref name="senderKey"/>, e.g. <c>"w":</c>) with its own
    /// sequence (<paramref name="sequenceKey"/>) and send time (<paramref name="timeKey"/>): gaps and
    /// duplicates per sender, as each sender's messages must arrive in order. <see cref="Last"/> counts
    /// the messages that advanced some sender's sequence. False when the keys are not there.
    /// </summary>
    public bool OnSequenced(ReadOnlySpan<byte> message, long now, ReadOnlySpan<byte> senderKey, ReadOnlySpan<byte> sequenceKey, ReadOnlySpan<byte> timeKey)
    {
        var sender = Number(message, senderKey);
        var sequence = Number(message, sequenceKey);
        if (sender < 0 || sequence < 0)
            return false;
        if (sender >= SenderLast.Length)
        {
            var grown = new long[Math.Max(sender + 1, SenderLast.Length * 2)];
            SenderLast.CopyTo(grown, 0);
            SenderLast = grown;
        }

        var previous = SenderLast[sender];
        if (sequence != previous + 1)
        {
            if (sequence > previous + 1)
                Gaps += sequence - previous - 1;
            else
                Duplicates++;
        }

        if (sequence > previous)
        {
            Last = Math.Max(0, Last) + sequence - previous;
            SenderLast[sender] = sequence;
        }

        Received++;
        LastReceivedTicks = now;
        var sent = Number(message, timeKey);
        if (sent > 0)
            Latency.Record(now - sent);
        return true;
    }

    /// <summary>The non-negative integer right after <paramref name="key"/>, or -1.</summary>
    public static long Number(ReadOnlySpan<byte> json, ReadOnlySpan<byte> key)
    {
        var at = json.IndexOf(key);
        if (at < 0)
            return -1;
        return Utf8Parser.TryParse(json[(at + key.Length)..], out long value, out _) ? value : -1;
    }
}
