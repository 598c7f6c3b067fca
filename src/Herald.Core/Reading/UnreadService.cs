using Herald.Channels;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Reading;

/// <summary>
/// Read markers and unread counts over the engine's <see cref="IReadStateStore"/> and the channel
/// log: <c>unread = n at the top − n at the marker</c>, one state read per channel, exact and
/// uncapped. Markers are checked against the channel's log before they are stored; accepted ones
/// go to the user's other devices through <see cref="ReadSync"/>.
/// </summary>
public sealed partial class UnreadService(
    IChannelLog log,
    IReadStateStore store,
    IOptions<HeraldOptions> options,
    ReadSync? sync = null,
    TimeProvider? time = null,
    ILogger<UnreadService>? logger = null,
    IReceiptListener? receipts = null)
{
    private readonly HeraldOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>Per user, the read-state writes after that user's publishes (or mentions) still running on this node.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _pending = new(StringComparer.Ordinal);

    public UnreadOptions Settings => _options.Unread;

    /// <summary>
    /// Sets <paramref name="user"/>'s marker on <paramref name="channel"/> at <paramref name="offset"/>
    /// (null: the top — "read everything"). A lower offset than the stored one is ignored unless
    /// <paramref name="markUnread"/>. <paramref name="epoch"/>, when given, must be the channel's.
    /// On a channel with receipts the marker is shown to the other members as the user's seen
    /// marker, unless <paramref name="isPrivate"/>: a private read moves the unread count only.
    /// </summary>
    public async ValueTask<MarkOutcome> MarkAsync(string user, string channel, long? offset, string? epoch, bool markUnread, bool isPrivate = false, CancellationToken cancellationToken = default)
    {
        await SettledAsync(user, cancellationToken).ConfigureAwait(false);
        var state = await log.GetStateAsync(channel, cancellationToken).ConfigureAwait(false);
        if (Check(state, offset, epoch) is { } failed)
            return failed;
        var at = offset ?? state.Top;

        if (state.Epoch.Length == 0)
        {
            // Nothing written yet: there is no position to mark; the channel becomes one of the user's.
            await store.JoinAsync(channel, [user], cancellationToken).ConfigureAwait(false);
            return new MarkOutcome(Count(channel, state, new ReadEntry(channel, null, [])), false, MarkError.None, string.Empty, state);
        }

        var n = await OrdinalAtAsync(channel, state, at, cancellationToken).ConfigureAwait(false);
        var marker = new ReadMarker(state.Epoch, at, n, _time.GetUtcNow());
        var update = markUnread
            ? await store.SetMarkerAsync(user, channel, marker, MarkerWrite.ReadBackward, cancellationToken).ConfigureAwait(false)
            : await ReadAsync(user, channel, marker, shown: !isPrivate, cancellationToken).ConfigureAwait(false);
        if (update.Changed)
            sync?.Enqueue(user, channel, update.Marker);
        if (markUnread && !isPrivate)
            await ShowAsync(user, channel, update.Marker, MarkerWrite.Seen, cancellationToken).ConfigureAwait(false);
        return new MarkOutcome(Count(channel, state, new ReadEntry(channel, update.Marker, [])), update.Changed, MarkError.None, string.Empty, state);
    }

    /// <summary>
    /// Sets <paramref name="user"/>'s delivered marker on a channel with receipts, at
    /// <paramref name="offset"/> (null: the top): the user's device received the publications up to
    /// it. Forward only; checked like a read marker.
    /// </summary>
    public async ValueTask<DeliveredOutcome> MarkDeliveredAsync(string user, string channel, long? offset, string? epoch, CancellationToken cancellationToken = default)
    {
        if (ReceiptsFor(channel) is null)
            return new DeliveredOutcome(null, false, MarkError.ReceiptsDisabled, ReceiptsOffMessage(channel));
        var state = await log.GetStateAsync(channel, cancellationToken).ConfigureAwait(false);
        if (Check(state, offset, epoch) is { } failed)
            return new DeliveredOutcome(null, false, failed.Error, failed.Message);
        if (state.Epoch.Length == 0)
            return new DeliveredOutcome(null, false, MarkError.None, string.Empty);

        var at = offset ?? state.Top;
        var n = await OrdinalAtAsync(channel, state, at, cancellationToken).ConfigureAwait(false);
        var update = await ShowAsync(user, channel, new ReadMarker(state.Epoch, at, n, _time.GetUtcNow()), MarkerWrite.Delivered, cancellationToken).ConfigureAwait(false);
        return new DeliveredOutcome(update?.Marker, update?.Changed ?? false, MarkError.None, string.Empty);
    }

    /// <summary>
    /// Moves the read marker forward and, when the read is <paramref name="shown"/> on a channel with
    /// receipts, the seen marker with it — one store write — telling the channel's subscribers when
    /// the seen marker moved.
    /// </summary>
    private async ValueTask<MarkerUpdate> ReadAsync(string user, string channel, ReadMarker marker, bool shown, CancellationToken cancellationToken)
    {
        if (!shown || ReceiptsFor(channel) is not { } listener)
            return await store.SetMarkerAsync(user, channel, marker, MarkerWrite.Read, cancellationToken).ConfigureAwait(false);
        var update = await store.SetMarkerAsync(user, channel, marker, MarkerWrite.ReadAndSeen, cancellationToken).ConfigureAwait(false);
        if (update.SeenChanged)
            await listener.OnReceiptAsync(channel, user, update.Marker, null, cancellationToken).ConfigureAwait(false);
        return update;
    }

    /// <summary>Why a channel refuses a receipt or a receipts request (<see cref="MarkError.ReceiptsDisabled"/>).</summary>
    internal static string ReceiptsOffMessage(string channel) =>
        $"'{channel}' keeps no receipts: its namespace's Receipts is Off (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:Receipts).";

    /// <summary>Who is told of the channel's receipts; null when it keeps none (no listener, or its namespace's <c>Receipts</c> is Off).</summary>
    private IReceiptListener? ReceiptsFor(string channel) =>
        receipts is not null && _options.KeepsReceipts(channel) ? receipts : null;

    /// <summary>Stores a receipt marker on a channel with receipts and, when it moved, tells the channel's subscribers; null when the channel has none.</summary>
    private async ValueTask<MarkerUpdate?> ShowAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken)
    {
        if (ReceiptsFor(channel) is not { } listener)
            return null;
        var update = await store.SetMarkerAsync(user, channel, marker, write, cancellationToken).ConfigureAwait(false);
        if (update.Changed)
        {
            await listener.OnReceiptAsync(channel, user, write == MarkerWrite.Seen ? update.Marker : null, write == MarkerWrite.Delivered ? update.Marker : null, cancellationToken).ConfigureAwait(false);
        }

        return update;
    }

    private static MarkOutcome? Check(StreamState state, long? offset, string? epoch)
    {
        if (epoch is not null && epoch != state.Epoch)
            return MarkOutcome.Failed(MarkError.EpochMismatch, $"The channel's epoch is '{state.Epoch}', not '{epoch}': its history was reset. Read it again and mark a position of the current epoch.", state);
        var at = offset ?? state.Top;
        if (at < 0 || at > state.Top)
            return MarkOutcome.Failed(MarkError.InvalidOffset, $"'offset' must be from 0 to the channel's top ({state.Top}).", state);
        return null;
    }

    /// <summary>
    /// The unread counts of <paramref name="channels"/> (each listed channel is answered, read or
    /// not), or when null of every channel the user has read state in (at most <see cref="UnreadOptions.MaxChannels"/>).
    /// </summary>
    public async ValueTask<UnreadSummary> GetUnreadAsync(string user, IReadOnlyList<string>? channels, CancellationToken cancellationToken = default)
    {
        await SettledAsync(user, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ReadEntry> all;
        StreamState[] states;
        if (store is IReadStateWithStates together)
        {
            var read = await together.GetWithStatesAsync(user, channels?.Distinct(StringComparer.Ordinal).ToList(), Settings.MaxChannels, cancellationToken).ConfigureAwait(false);
            all = read.Select(r => r.Entry).ToList();
            states = read.Select(r => r.State).ToArray();
        }
        else if (channels is null)
        {
            all = await store.GetAsync(user, null, Settings.MaxChannels, cancellationToken).ConfigureAwait(false);
            states = await log.GetStatesAsync(all.Select(e => e.Channel).ToList(), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // A list is known up front: the markers and the channels' states are read side by side.
            var distinct = channels.Distinct(StringComparer.Ordinal).ToList();
            var reading = Task.Run(() => store.GetAsync(user, distinct, Settings.MaxChannels, cancellationToken).AsTask(), cancellationToken);
            states = await log.GetStatesAsync(distinct, cancellationToken).ConfigureAwait(false);
            var found = (await reading.ConfigureAwait(false)).ToDictionary(e => e.Channel, StringComparer.Ordinal);
            all = distinct.Select(c => found.GetValueOrDefault(c) ?? new ReadEntry(c, null, [])).ToList();
        }

        var counts = new ChannelUnread[all.Count];
        long total = 0, mentions = 0;
        for (var i = 0; i < all.Count; i++)
        {
            counts[i] = Count(all[i].Channel, states[i], all[i]);
            total += counts[i].Unread;
            mentions += counts[i].Mentions.Count;
        }

        return new UnreadSummary(counts, total, mentions);
    }

    /// <summary>
    /// After an append: a countable publication by a user moves that user's marker to it; the users
    /// it mentions get a mention each; a direct channel's first message makes it one of each member's
    /// channels. Failures are logged, never the publisher's: the publication is committed.
    /// </summary>
    /// <remarks>
    /// The writes run after the publish is answered, so a user's publish waits for its append only;
    /// this node's reads and marks of the users concerned wait for them (<see cref="SettledAsync"/>),
    /// so on the node that took the publish a count never misses it. Another node sees the marker
    /// once its write lands, a store round trip later.
    /// </remarks>
    public ValueTask OnPublishedAsync(Publication publication, IReadOnlyList<string>? mentioned)
    {
        ArgumentNullException.ThrowIfNull(publication);
        var publisher = publication.Countable && publication.From is { } from && IsUser(from) ? from : null;
        string[]? members = null;
        if (publication.Countable && publication.N == 1 && _options.KindOf(ChannelName.NamespaceOf(publication.Channel)) == ChannelKind.Direct
            && DirectChannel.TryCheck(publication.Channel, _options.PolicyFor(publication.Channel).MaxDirectMembers, out var direct, out _, out _))
        {
            members = direct;
        }

        if (publisher is null && mentioned is not { Count: > 0 } && members is null)
            return ValueTask.CompletedTask;

        var work = WriteAfterPublishAsync(publication, publisher, mentioned, members);
        if (work.IsCompleted)
            return ValueTask.CompletedTask;
        foreach (var user in (publisher is null ? Array.Empty<string>() : [publisher]).Concat(mentioned ?? []).Concat(members ?? []).Distinct(StringComparer.Ordinal))
            Track(user, work);
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for this node's writes of <paramref name="user"/>'s read state that follow a publish.</summary>
    private Task SettledAsync(string user, CancellationToken cancellationToken) =>
        _pending.TryGetValue(user, out var pending) ? pending.WaitAsync(cancellationToken) : Task.CompletedTask;

    private void Track(string user, Task work)
    {
        var combined = _pending.AddOrUpdate(user, work, (_, previous) => previous.IsCompleted ? work : Task.WhenAll(previous, work));
        _ = combined.ContinueWith(
            static (done, state) =>
            {
                var (pending, user) = ((System.Collections.Concurrent.ConcurrentDictionary<string, Task>, string))state!;
                pending.TryRemove(new KeyValuePair<string, Task>(user, done));
            },
            (_pending, user),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task WriteAfterPublishAsync(Publication publication, string? publisher, IReadOnlyList<string>? mentioned, string[]? members)
    {
        var cancellationToken = CancellationToken.None;
        try
        {
            if (publisher is { } from)
            {
                var update = await ReadAsync(from, publication.Channel, new ReadMarker(publication.Epoch, publication.Offset, publication.N, publication.Time), shown: true, cancellationToken).ConfigureAwait(false);
                if (update.Changed)
                    sync?.Enqueue(from, publication.Channel, update.Marker);
            }

            if (mentioned is { Count: > 0 })
            {
                var others = mentioned.Where(u => u != publication.From).Distinct(StringComparer.Ordinal).ToList();
                if (others.Count > 0)
                    await store.MentionAsync(publication.Channel, others, publication.Position, Settings.MentionsKept, cancellationToken).ConfigureAwait(false);
            }

            if (members is not null)
                await store.JoinAsync(publication.Channel, members, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The publication is committed; read state catches up with the next marker.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ReadStateFailed(_logger, publication.Channel, publication.Offset, ex);
        }
    }

    /// <summary>Forgets the user's read state of a channel: it leaves the user's unread list.</summary>
    public ValueTask<bool> ForgetAsync(string user, string channel, CancellationToken cancellationToken = default) =>
        store.RemoveAsync(user, channel, cancellationToken);

    /// <summary>Users are ids without the prefixes Herald gives other publishers (<c>webhook:</c>).</summary>
    private static bool IsUser(string from) => !from.StartsWith("webhook:", StringComparison.Ordinal);

    private static ChannelUnread Count(string channel, StreamState state, ReadEntry entry)
    {
        var marker = entry.Marker;
        if (marker is not null && marker.Epoch != state.Epoch)
        {
            // Another epoch: the history the marker pointed into is gone. Everything there is now is unread.
            return new ChannelUnread(channel, state, null, state.N, [], state.N > 0 ? state.First : null, Reset: true);
        }

        var readN = marker?.N ?? 0;
        var readOffset = marker?.Offset ?? 0;
        var unread = Math.Max(0, state.N - readN);
        var mentions = entry.Mentions.Where(m => m.Epoch == state.Epoch && m.Offset > readOffset && m.Offset <= state.Top).Select(m => m.Offset).ToList();
        long? firstUnread = unread > 0 ? Math.Max(readOffset + 1, state.First) : null;
        return new ChannelUnread(channel, state, marker, unread, mentions, firstUnread, Reset: false);
    }

    /// <summary>The countable ordinal at <paramref name="offset"/>: the top's, 0 before the first, else the publication's (the oldest retained one's when it was trimmed).</summary>
    private async ValueTask<long> OrdinalAtAsync(string channel, StreamState state, long offset, CancellationToken cancellationToken)
    {
        if (offset == state.Top)
            return state.N;
        if (offset == 0)
            return 0;

        var read = await log.ReadAsync(channel, new ReadRequest(Math.Max(offset, state.First) - 1, 1), cancellationToken).ConfigureAwait(false);
        if (read.Publications.Count == 0)
            return read.State.N;
        var publication = read.Publications[0];
        // Trimmed: the ordinal just before the oldest retained one is the closest known at or above it.
        return publication.Offset == offset ? publication.N : publication.N - (publication.Countable ? 1 : 0);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2700, Level = LogLevel.Warning, EventName = "ReadStateFailed",
            Message = "The read state after the publication {Channel}:{Offset} was not stored (the publisher's marker, mentions or a direct channel's members); it catches up with the next marker")]
        public static partial void ReadStateFailed(ILogger logger, string channel, long offset, Exception exception);
    }
}

/// <summary>One channel's unread count for one user.</summary>
/// <param name="State">The channel's log state: epoch, top offset, countable ordinal at the top.</param>
/// <param name="Marker">The user's marker; null when none (or it was of an older epoch: <paramref name="Reset"/>).</param>
/// <param name="Unread">Messages (countable publications) after the marker.</param>
/// <param name="Mentions">Offsets after the marker of publications that mention the user (the newest ones kept).</param>
/// <param name="FirstUnread">Where reading resumes: the offset after the marker (the oldest retained one when that was trimmed); null when nothing is unread.</param>
/// <param name="Reset">The marker was of an older epoch: the channel's history was reset since.</param>
public sealed record ChannelUnread(string Channel, StreamState State, ReadMarker? Marker, long Unread, IReadOnlyList<long> Mentions, long? FirstUnread, bool Reset);

public sealed record UnreadSummary(IReadOnlyList<ChannelUnread> Channels, long Total, long Mentions);

public enum MarkError
{
    None,
    InvalidOffset,
    EpochMismatch,
    ReceiptsDisabled,
}

/// <param name="Marker">The delivered marker stored after the call; null when the channel was never written.</param>
public sealed record DeliveredOutcome(ReadMarker? Marker, bool Changed, MarkError Error, string Message);

/// <param name="Unread">The channel's count after the call, with the stored marker (which may be further than the one asked for).</param>
/// <param name="Changed">Whether the marker moved.</param>
public sealed record MarkOutcome(ChannelUnread? Unread, bool Changed, MarkError Error, string Message, StreamState State)
{
    internal static MarkOutcome Failed(MarkError error, string message, StreamState state) => new(null, false, error, message, state);
}
