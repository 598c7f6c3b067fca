using System.Globalization;
using Herald.Client.Internal;

namespace Herald.Client;

/// <summary>
/// One message of a channel's log: <c>{channel, offset, epoch, id, time, from?, type?, meta?, data}</c>
/// (docs/protocol.md#a-publication). <typeparamref name="T"/> is the type of <see cref="Data"/>;
/// <see cref="JsonData"/> keeps it as the server sent it.
/// </summary>
public sealed class Publication<T>
{
    private readonly ulong idHigh;
    private readonly ulong idLow;
    private string? id;

    internal Publication(string channel, long offset, string epoch, string? id, ulong idHigh, ulong idLow, DateTimeOffset time, string? from, string? type, JsonData? meta, T data)
    {
        Channel = channel;
        Offset = offset;
        Epoch = epoch;
        this.id = id;
        this.idHigh = idHigh;
        this.idLow = idLow;
        Time = time;
        From = from;
        Type = type;
        Meta = meta;
        Data = data;
    }

    /// <summary>The channel it was published to.</summary>
    public string Channel { get; }

    /// <summary>Its position in the channel's log, contiguous from 1.</summary>
    public long Offset { get; }

    /// <summary>The log generation the offset belongs to.</summary>
    public string Epoch { get; }

    /// <summary>The server-assigned unique id (UUIDv7 as 32 hex digits).</summary>
    // Formatted on first use: most applications never read it, and it is a third of a
    // publication's allocation when made eagerly.
    public string Id => id ??= Hex.Format(idHigh, idLow);

    /// <summary>When the server appended it.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The publishing user (the token's <c>sub</c>); null for server API keys.</summary>
    public string? From { get; }

    /// <summary>The application-defined kind given when publishing (<c>msgType</c> on the wire).</summary>
    public string? Type { get; }

    /// <summary>Set by the server: where the publication came from (e.g. an inbound webhook's source and delivery id).</summary>
    public JsonData? Meta { get; }

    /// <summary>The message (the type's default for a JSON <c>null</c>).</summary>
    public T Data { get; }

    /// <summary>Its position.</summary>
    public Position Position => new(Epoch, Offset);

    /// <inheritdoc />
    public override string ToString() => $"{Channel}@{Epoch}:{Offset.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>The answer to a publish: where the publication was appended.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Offset">Its offset.</param>
/// <param name="Epoch">Its epoch.</param>
/// <param name="Id">Its id.</param>
/// <param name="Time">When it was appended.</param>
/// <param name="Duplicate">True when the idempotency key had been used already: nothing was appended, this is the original position.</param>
public sealed record PublishResult(string Channel, long Offset, string Epoch, string Id, DateTimeOffset Time, bool Duplicate);

/// <summary>A window of a channel's history.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Epoch">The channel's epoch (empty when it was never written).</param>
/// <param name="Top">Its newest offset.</param>
/// <param name="First">Its oldest retained offset (<c>Top + 1</c> when none is).</param>
/// <param name="Publications">The publications of the window.</param>
public sealed record HistoryPage<T>(string Channel, string Epoch, long Top, long First, IReadOnlyList<Publication<T>> Publications);

/// <summary>Options of a publish.</summary>
public sealed class PublishOptions
{
    /// <summary>The application-defined kind (1–64 characters), <c>msgType</c> for subscribers.</summary>
    public string? Type { get; set; }

    /// <summary>
    /// Deduplicates retries: a repeat within the server's window (10 min) appends nothing and answers the
    /// original position. Default: a random key per call, so the client's own retries never append twice.
    /// </summary>
    public string? IdempotencyKey { get; set; }
}

/// <summary>Which window of history to read.</summary>
public sealed class HistoryOptions
{
    /// <summary>Only publications with a greater offset (0).</summary>
    public long After { get; set; }

    /// <summary>At most this many (server default 100, at most its MaxHistoryLimit, 1000).</summary>
    public int? Limit { get; set; }

    /// <summary>The newest <see cref="Limit"/> after <see cref="After"/>, newest first.</summary>
    public bool Reverse { get; set; }
}

/// <summary>Options of a subscription.</summary>
public sealed class SubscribeOptions
{
    /// <summary>
    /// Resume after this position (<see cref="Position.Start"/>: everything retained); null: live from now.
    /// A position the server no longer has is answered with a reset, never a silent gap.
    /// </summary>
    public Position? Since { get; set; }

    /// <summary>
    /// Presence on this channel (its namespace must enable it): <see cref="PresenceMode.List"/> keeps the
    /// members in <see cref="SubscriptionBase.Presence"/>. Null: the server's default (present where the
    /// namespace has presence) and no presence events. Carried by the WebSocket, SSE and streaming; not by
    /// long or short polling in this client.
    /// </summary>
    public PresenceMode? Presence { get; set; }

    /// <summary>
    /// Runs on the new subscription before it is sent to the server. Attach <see cref="SubscriptionBase.Subscribed"/>,
    /// <see cref="SubscriptionBase.Recovered"/>, <see cref="SubscriptionBase.Reset"/> or <see cref="SubscriptionBase.Failed"/>
    /// handlers here to be sure to see the first confirmation: on an open connection it can arrive before
    /// <c>Subscribe</c> returns. (Publications need no such care: they are held until the first consumer.)
    /// </summary>
    public Action<SubscriptionBase>? Configure { get; set; }
}
