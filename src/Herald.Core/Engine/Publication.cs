namespace Herald.Engine;

/// <summary>One message in a channel's log, as every transport sees it.</summary>
public sealed class Publication
{
    public required string Channel { get; init; }

    /// <summary>Offset in the channel's log: contiguous from 1.</summary>
    public required long Offset { get; init; }

    public required string Epoch { get; init; }

    /// <summary>Server-assigned unique id (UUIDv7, 32 hex digits).</summary>
    public required string Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>Who published it: a user id for client publishes, null for server API keys.</summary>
    public string? From { get; init; }

    /// <summary>Optional application-defined kind of message.</summary>
    public string? Type { get; init; }

    /// <summary>Server-set facts about where it came from: a compact JSON object, or empty (most publications).</summary>
    public ReadOnlyMemory<byte> Meta { get; init; }

    /// <summary>The message payload: one complete JSON value, UTF-8 encoded, stored as received.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>
    /// The channel's countable ordinal after this publication: how many publications that count as
    /// messages (<see cref="Countable"/>) the epoch holds up to and including this one. Unread counts
    /// are differences of it: <c>n at the top − n at the reader's marker</c>.
    /// </summary>
    public long N { get; init; }

    /// <summary>Whether this publication counts as a message (its namespace's <c>UnreadTypes</c>); only then does it carry <c>n</c> on the wire.</summary>
    public bool Countable { get; init; }

    public Position Position => new(Epoch, Offset);

    /// <summary><see cref="N"/> and <see cref="Countable"/> in one signed number, as engines store them: <c>n</c> when countable, <c>−n</c> when not.</summary>
    public long StoredN => Countable ? N : -N;

    /// <summary>The (<see cref="N"/>, <see cref="Countable"/>) pair of a stored number (<see cref="StoredN"/>).</summary>
    public static (long N, bool Countable) FromStoredN(long stored) => stored > 0 ? (stored, true) : (-stored, false);
}
