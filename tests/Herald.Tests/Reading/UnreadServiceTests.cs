using System.Buffers;
using System.Text;
using Herald.Auth;
using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Publishing;
using Herald.Reading;
using Microsoft.Extensions.Options;

namespace Herald.Tests.Reading;

/// <summary>Unread counts from ordinals: exact, uncapped, and what a new message costs the read state.</summary>
public sealed class UnreadServiceTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private static (MemoryChannelLog Log, CountingStore Store, UnreadService Unread, PublishService Publisher) Create(HeraldOptions? settings = null)
    {
        var options = Options.Create(settings ?? new HeraldOptions { Unread = { SyncInterval = TimeSpan.Zero } });
        var log = new MemoryChannelLog();
        var store = new CountingStore(new MemoryReadStateStore());
        var unread = new UnreadService(log, store, options);
        var publisher = new PublishService(log, options, unread: unread);
        return (log, store, unread, publisher);
    }

    private static async Task<Publication> PublishAsync(PublishService publisher, string channel, string user, string? type = null, IReadOnlyList<string>? mentions = null)
    {
        var result = await publisher.PublishAsync(new PublishRequest
        {
            Channel = channel,
            Caller = Caller.Server,
            From = user,
            Data = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes("{\"text\":\"hi\"}")),
            Type = type,
            Mentions = mentions,
        }).AsTask().WaitAsync(s_timeout);
        Assert.True(result.Succeeded, result.Message);
        return result.Publication!;
    }

    [Fact]
    public async Task At_a_hundred_thousand_messages_the_count_is_exact_and_uncapped()
    {
        var (log, _, unread, _) = Create();
        var retention = new Retention(1000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        for (var i = 0; i < 100_000; i++)
            await log.AppendAsync(new AppendRequest("chat:big", "1"u8.ToArray(), retention, Countable: i % 10 != 0));

        var none = await unread.GetUnreadAsync("alice", ["chat:big"]);
        Assert.Equal(90_000, none.Total);
        var marked = await unread.MarkAsync("alice", "chat:big", 99_995, null, markUnread: false);
        Assert.Equal(MarkError.None, marked.Error);
        // Offset o is append i = o - 1; every tenth append (i % 10 == 0) does not count.
        var expected = Enumerable.Range(99_996, 5).Count(offset => (offset - 1) % 10 != 0);
        Assert.Equal(expected, marked.Unread!.Unread);
        Assert.Equal(99_996, marked.Unread.FirstUnread);
    }

    [Fact]
    public async Task A_message_in_a_ten_thousand_member_room_writes_one_marker_and_one_entry_per_mention_only()
    {
        var (log, store, unread, publisher) = Create();
        var first = await PublishAsync(publisher, "chat:big", "u0");
        for (var i = 0; i < 10_000; i++)
            await unread.MarkAsync($"u{i}", "chat:big", first.Offset, null, markUnread: false);

        store.Reset();
        var message = await PublishAsync(publisher, "chat:big", "u1", mentions: ["u2", "u3", "u1"]);
        // The read-state writes follow the answer; a read of the publisher's state on this node waits for them.
        Assert.Equal(0, (await unread.GetUnreadAsync("u1", ["chat:big"])).Total);

        // The counter moved inside the append (n); the read state got the publisher's own marker and one mention per mentioned user (not the author).
        Assert.Equal(2, message.N);
        Assert.Equal(1, store.MarkerWrites);
        Assert.Equal(2, store.MentionWrites);
        Assert.Equal(0, store.JoinWrites);
        var state = await log.GetStateAsync("chat:big");
        Assert.Equal(2, state.N);

        // And every member's count is exact without any write to them.
        var summary = await unread.GetUnreadAsync("u5", ["chat:big"]);
        Assert.Equal(1, summary.Total);
        Assert.Empty(summary.Channels[0].Mentions);
        Assert.Equal([message.Offset], (await unread.GetUnreadAsync("u2", ["chat:big"])).Channels[0].Mentions);
        Assert.Equal(0, (await unread.GetUnreadAsync("u1", ["chat:big"])).Total);
    }

    [Fact]
    public async Task Markers_only_move_forward_unless_marked_unread_and_non_countable_types_do_not_count()
    {
        var settings = new HeraldOptions { Unread = { SyncInterval = TimeSpan.Zero } };
        settings.Namespaces["chat"] = new Herald.Channels.ChannelPolicy { UnreadTypes = ["message"] };
        var (_, _, unread, publisher) = Create(settings);
        await PublishAsync(publisher, "chat:a", "bob", "message");
        await PublishAsync(publisher, "chat:a", "bob", "other");
        await PublishAsync(publisher, "chat:a", "bob");
        await PublishAsync(publisher, "chat:a", "bob", "message");
        Assert.False(settings.Namespaces["chat"].IsCountable(Herald.Channels.ActionTypes.React));

        Assert.Equal(2, (await unread.GetUnreadAsync("alice", ["chat:a"])).Total);
        var at3 = await unread.MarkAsync("alice", "chat:a", 3, null, markUnread: false);
        Assert.Equal((true, 1L, 1L), (at3.Changed, at3.Unread!.Marker!.N, at3.Unread.Unread));

        var back = await unread.MarkAsync("alice", "chat:a", 1, null, markUnread: false);
        Assert.False(back.Changed);
        Assert.Equal(3, back.Unread!.Marker!.Offset);

        var unmarked = await unread.MarkAsync("alice", "chat:a", 0, null, markUnread: true);
        Assert.True(unmarked.Changed);
        Assert.Equal(2, unmarked.Unread!.Unread);
        Assert.Equal(1, unmarked.Unread.FirstUnread);
    }

    [Fact]
    public async Task A_marker_of_an_older_epoch_answers_a_reset_and_a_stale_epoch_is_refused()
    {
        var (log, _, unread, publisher) = Create();
        await PublishAsync(publisher, "chat:r", "bob");
        var old = await unread.MarkAsync("alice", "chat:r", null, null, markUnread: false);
        Assert.Equal(0, old.Unread!.Unread);

        await log.RemoveAsync("chat:r");
        await PublishAsync(publisher, "chat:r", "bob");
        await PublishAsync(publisher, "chat:r", "bob");
        var reset = (await unread.GetUnreadAsync("alice", null)).Channels.Single();
        Assert.True(reset.Reset);
        Assert.Null(reset.Marker);
        Assert.Equal(2, reset.Unread);

        var stale = await unread.MarkAsync("alice", "chat:r", 1, old.Unread.State.Epoch, markUnread: false);
        Assert.Equal(MarkError.EpochMismatch, stale.Error);
        var beyond = await unread.MarkAsync("alice", "chat:r", 3, null, markUnread: false);
        Assert.Equal(MarkError.InvalidOffset, beyond.Error);
        var current = await unread.MarkAsync("alice", "chat:r", 1, reset.State.Epoch, markUnread: false);
        Assert.Equal((MarkError.None, 1L, false), (current.Error, current.Unread!.Unread, current.Unread.Reset));
    }

    [Fact]
    public async Task Marking_a_channel_never_written_lists_it_without_a_marker()
    {
        var (_, _, unread, publisher) = Create();
        var marked = await unread.MarkAsync("alice", "chat:empty", null, null, markUnread: false);
        Assert.Equal((MarkError.None, false, 0L), (marked.Error, marked.Changed, marked.Unread!.Unread));
        Assert.Null(marked.Unread.Marker);
        Assert.Equal(MarkError.InvalidOffset, (await unread.MarkAsync("alice", "chat:empty", 1, null, markUnread: false)).Error);

        await PublishAsync(publisher, "chat:empty", "bob");
        var listed = Assert.Single((await unread.GetUnreadAsync("alice", null)).Channels);
        Assert.Equal(("chat:empty", 1L), (listed.Channel, listed.Unread));
    }

    [Fact]
    public async Task A_direct_channels_first_message_makes_it_every_members_channel()
    {
        var (_, store, unread, publisher) = Create();
        await PublishAsync(publisher, "dm:alice~bob", "alice");
        await PublishAsync(publisher, "dm:alice~bob", "alice");

        var bob = await unread.GetUnreadAsync("bob", null);
        Assert.Equal(1, store.JoinWrites);
        Assert.Equal(("dm:alice~bob", 2L), (bob.Channels.Single().Channel, bob.Total));
        Assert.Equal(0, (await unread.GetUnreadAsync("alice", null)).Total);
    }

    /// <summary>Counts the writes a publish makes to the read state.</summary>
    private sealed class CountingStore(IReadStateStore inner) : IReadStateStore
    {
        public int MarkerWrites;
        public int MentionWrites;
        public int JoinWrites;

        public void Reset() => MarkerWrites = MentionWrites = JoinWrites = 0;

        public ValueTask<MarkerUpdate> SetMarkerAsync(string user, string channel, ReadMarker marker, MarkerWrite write, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref MarkerWrites);
            return inner.SetMarkerAsync(user, channel, marker, write, cancellationToken);
        }

        public ValueTask<IReadOnlyList<ReadEntry>> GetAsync(string user, IReadOnlyList<string>? channels, int limit, CancellationToken cancellationToken = default) =>
            inner.GetAsync(user, channels, limit, cancellationToken);

        public ValueTask MentionAsync(string channel, IReadOnlyList<string> users, Position position, int keep, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref MentionWrites, users.Count);
            return inner.MentionAsync(channel, users, position, keep, cancellationToken);
        }

        public ValueTask JoinAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref JoinWrites);
            return inner.JoinAsync(channel, users, cancellationToken);
        }

        public ValueTask<bool> RemoveAsync(string user, string channel, CancellationToken cancellationToken = default) =>
            inner.RemoveAsync(user, channel, cancellationToken);

        public ValueTask<IReadOnlyList<MemberReceipt>> GetReceiptsAsync(string channel, int limit, CancellationToken cancellationToken = default) =>
            inner.GetReceiptsAsync(channel, limit, cancellationToken);
    }
}
