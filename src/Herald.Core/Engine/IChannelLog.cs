namespace Herald.Engine;

/// <summary>
/// The per-channel ordered log that every transport reads. Implementations assign offsets
/// contiguously, acknowledge an append only once it is durable for that store, and tell the
/// <see cref="IPublicationSink"/> about appended publications in offset order per channel.
/// </summary>
public interface IChannelLog : IAsyncDisposable
{
    /// <summary>
    /// Appends one publication. When <see cref="AppendRequest.IdempotencyKey"/> was already used
    /// on this channel within the idempotency window, nothing is appended and the earlier
    /// publication is returned with <see cref="AppendResult.Duplicate"/> set — and with
    /// <see cref="AppendResult.KeyReused"/> when the earlier request differed (another data, type
    /// or publisher: <see cref="IdempotencyFingerprint"/>). The log owns <see cref="AppendRequest.Data"/>
    /// and <see cref="AppendRequest.Meta"/> from the call on: the caller must not change them.
    /// </summary>
    /// <exception cref="EngineUnavailableException">The engine cannot be reached; nothing was appended.</exception>
    ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default);

    /// <summary>Reads retained publications after (or, reversed, before) a position.</summary>
    ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default);

    /// <summary>The channel's epoch, newest offset and oldest retained offset.</summary>
    ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>Removes the channel's history. The next append starts a new epoch at offset 1.</summary>
    ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>Whether the store answers (used by /readyz).</summary>
    ValueTask<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>Receives every committed publication, in offset order per channel.</summary>
/// <remarks>Called on the store's commit path: implementations must not block.</remarks>
public interface IPublicationSink
{
    void OnPublished(Publication publication);
}

/// <summary>How much history a channel keeps; taken from its namespace policy on every append.</summary>
/// <param name="HistorySize">Publications kept per channel (the newest ones); at least 1.</param>
/// <param name="HistoryTtl">How long a publication stays readable after it was appended.</param>
/// <param name="IdempotencyWindow">How long an idempotency key is remembered.</param>
public sealed record Retention(int HistorySize, TimeSpan HistoryTtl, TimeSpan IdempotencyWindow)
{
    public static Retention Default { get; } = new(1000, TimeSpan.FromHours(24), TimeSpan.FromMinutes(10));
}

/// <param name="Data">The payload: compact JSON, owned by the log from the call on (it is stored without a copy).</param>
/// <param name="Meta">Where the publication came from, as a compact JSON object (e.g. an inbound webhook's source and delivery id); null for none.</param>
/// <param name="Countable">Whether it counts as a message: the log then gives it the channel's next countable ordinal <see cref="Publication.N"/> in the same step as its offset.</param>
public sealed record AppendRequest(
    string Channel,
    ReadOnlyMemory<byte> Data,
    Retention Retention,
    string? From = null,
    string? Type = null,
    string? IdempotencyKey = null,
    byte[]? Meta = null,
    bool Countable = true);

/// <param name="Publication">The appended publication, or for a duplicate the original one.</param>
/// <param name="Duplicate">The idempotency key was used already: nothing was appended.</param>
/// <param name="KeyReused">A duplicate whose key came with another request than the original (<see cref="IdempotencyFingerprint"/>).</param>
public readonly record struct AppendResult(Publication Publication, bool Duplicate, bool KeyReused = false);

/// <param name="After">Read publications with offset greater than this (forward), or less than this (reverse; 0 = from the newest).</param>
/// <param name="Limit">At most this many publications.</param>
/// <param name="Reverse">Newest first.</param>
public readonly record struct ReadRequest(long After, int Limit, bool Reverse = false);

/// <param name="Epoch">The current epoch; empty for a channel never written (or removed): its first append picks one.</param>
/// <param name="Top">The newest offset, 0 when the channel has no publication yet.</param>
/// <param name="First">The oldest retained offset; Top + 1 when nothing is retained.</param>
/// <param name="N">The countable ordinal at the top (<see cref="Publication.N"/>): how many messages the epoch holds, trimmed ones included.</param>
public readonly record struct StreamState(string Epoch, long Top, long First, long N = 0)
{
    public static StreamState Empty { get; } = new(string.Empty, 0, 1);

    public Position Position => new(Epoch, Top);
}

public sealed record ReadResult(IReadOnlyList<Publication> Publications, StreamState State);
