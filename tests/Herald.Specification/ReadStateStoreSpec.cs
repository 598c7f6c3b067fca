using Herald.Engine;
using Herald.Reading;

namespace Herald.Specification;

/// <summary>
/// What every <see cref="IReadStateStore"/> promises (docs/architecture.md): forward-only markers per
/// (user, channel), bounded sorted mentions, a user's channels listed by their last change, atomicity
/// under concurrent calls. Each store's test class derives from this. Times are compared to the
/// millisecond, the precision the durable stores keep.
/// </summary>
public abstract partial class ReadStateStoreSpec : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A time with ticks below the millisecond and an offset from UTC: both must survive as the same instant, to the millisecond.</summary>
    protected static readonly DateTimeOffset Noon = new DateTimeOffset(2026, 12, 3, 12, 0, 0, 123, TimeSpan.FromHours(2)).AddTicks(4567);

    protected const string E1 = "epochAAA";

    protected const string E2 = "epochBBB";

    protected IReadStateStore Store { get; private set; } = null!;

    /// <summary>A store over this test's own storage.</summary>
    protected abstract Task<IReadStateStore> CreateAsync();

    public async Task InitializeAsync() => Store = await CreateAsync().WaitAsync(Timeout);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_first_marker_is_stored_and_read_back_with_its_n_and_time_to_the_millisecond()
    {
        var marker = new ReadMarker(E1, 41, 17, Noon);

        var update = await Set("alice", "chat:a", marker);

        Assert.True(update.Changed);
        AssertMarker(marker, update.Marker);
        var entry = Assert.Single(await Get("alice", ["chat:a"]));
        Assert.Equal("chat:a", entry.Channel);
        AssertMarker(marker, entry.Marker);
        Assert.Empty(entry.Mentions);
    }

    [Fact]
    public async Task A_marker_at_or_below_the_stored_offset_changes_nothing_and_answers_the_stored_marker()
    {
        var stored = new ReadMarker(E1, 10, 8, Noon);
        await Set("alice", "chat:a", stored);

        var lower = await Set("alice", "chat:a", new ReadMarker(E1, 9, 7, Noon.AddMinutes(1)));
        var equal = await Set("alice", "chat:a", new ReadMarker(E1, 10, 9, Noon.AddMinutes(2)));

        Assert.False(lower.Changed);
        AssertMarker(stored, lower.Marker);
        Assert.False(equal.Changed);
        AssertMarker(stored, equal.Marker);
        AssertMarker(stored, (await Entry("alice", "chat:a")).Marker);
    }

    [Fact]
    public async Task A_higher_offset_moves_the_marker_forward()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 10, 8, Noon));
        var next = new ReadMarker(E1, 11, 8, Noon.AddSeconds(1));

        var update = await Set("alice", "chat:a", next);

        Assert.True(update.Changed);
        AssertMarker(next, update.Marker);
        AssertMarker(next, (await Entry("alice", "chat:a")).Marker);
    }

    [Fact]
    public async Task Allow_backward_stores_a_lower_marker()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 10, 8, Noon));
        var unread = new ReadMarker(E1, 4, 3, Noon.AddSeconds(1));

        var update = await Set("alice", "chat:a", unread, allowBackward: true);

        Assert.True(update.Changed);
        AssertMarker(unread, update.Marker);
        AssertMarker(unread, (await Entry("alice", "chat:a")).Marker);
    }

    [Fact]
    public async Task A_marker_of_another_epoch_replaces_the_stored_one_even_at_a_lower_offset()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 10, 8, Noon));
        var reset = new ReadMarker(E2, 3, 1, Noon.AddSeconds(1));

        var update = await Set("alice", "chat:a", reset);

        Assert.True(update.Changed);
        AssertMarker(reset, update.Marker);
        AssertMarker(reset, (await Entry("alice", "chat:a")).Marker);
    }

    [Fact]
    public async Task Offset_zero_n_zero_and_large_values_round_trip_exactly()
    {
        var nothing = new ReadMarker(E1, 0, 0, DateTimeOffset.UnixEpoch);
        var large = new ReadMarker(E1, (1L << 52) + 3, (1L << 52) + 1, new DateTimeOffset(2999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero));

        await Set("alice", "chat:zero", nothing);
        await Set("alice", "chat:large", large);

        AssertMarker(nothing, (await Entry("alice", "chat:zero")).Marker);
        AssertMarker(large, (await Entry("alice", "chat:large")).Marker);
    }

    [Fact]
    public async Task Join_makes_the_channel_one_of_each_users_without_a_marker()
    {
        await Join("dm:alice~bob", ["alice", "bob"]);

        foreach (var user in new[] { "alice", "bob" })
        {
            var entry = Assert.Single(await Get(user, null, 10));
            Assert.Equal("dm:alice~bob", entry.Channel);
            Assert.Null(entry.Marker);
            Assert.Empty(entry.Mentions);
        }
    }

    [Fact]
    public async Task Join_leaves_an_existing_marker_and_its_mentions_as_they_were()
    {
        var marker = new ReadMarker(E1, 5, 5, Noon);
        await Set("alice", "dm:alice~bob", marker);
        await Mention("dm:alice~bob", ["alice"], new Position(E1, 7));

        await Join("dm:alice~bob", ["alice", "bob"]);

        var alice = await Entry("alice", "dm:alice~bob");
        AssertMarker(marker, alice.Marker);
        Assert.Equal([new Position(E1, 7)], alice.Mentions);
        Assert.Null((await Entry("bob", "dm:alice~bob")).Marker);
    }

    [Fact]
    public async Task Get_with_channels_leaves_out_those_without_an_entry_and_answers_a_duplicate_once()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 1, 1, Noon));
        await Set("alice", "chat:b", new ReadMarker(E1, 2, 2, Noon));
        await Join("chat:c", ["alice"]);

        var entries = await Get("alice", ["chat:b", "chat:missing", "chat:a", "chat:b", "chat:c", "chat:c"]);

        Assert.Equal(["chat:a", "chat:b", "chat:c"], entries.Select(e => e.Channel).Order(StringComparer.Ordinal));
        Assert.Empty(await Get("alice", []));
        Assert.Empty(await Get("nobody", ["chat:a"]));
    }

    [Fact]
    public async Task Get_without_channels_lists_every_channel_the_most_recently_changed_first_up_to_the_limit()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 1, 1, Noon));
        await Set("alice", "chat:b", new ReadMarker(E1, 1, 1, Noon));
        await Set("alice", "chat:c", new ReadMarker(E1, 1, 1, Noon));
        await Join("chat:d", ["alice"]);
        await Mention("chat:e", ["alice"], new Position(E1, 1));

        Assert.Equal(["chat:e", "chat:d", "chat:c", "chat:b", "chat:a"], await Channels("alice", 10));
        Assert.Equal(["chat:e", "chat:d", "chat:c"], await Channels("alice", 3));
        Assert.Empty(await Channels("alice", 0));

        // A stored marker and a kept mention move a channel to the front...
        await Set("alice", "chat:a", new ReadMarker(E1, 2, 2, Noon));
        await Mention("chat:b", ["alice"], new Position(E1, 5));
        Assert.Equal(["chat:b", "chat:a", "chat:e", "chat:d", "chat:c"], await Channels("alice", 10));

        // ...a call that leaves the entry as it was does not.
        await Set("alice", "chat:c", new ReadMarker(E1, 1, 1, Noon));
        await Join("chat:d", ["alice"]);
        await Mention("chat:b", ["alice"], new Position(E1, 5));
        await Mention("chat:a", ["alice"], new Position(E1, 2));
        Assert.Equal(["chat:b", "chat:a", "chat:e", "chat:d", "chat:c"], await Channels("alice", 10));
    }

    [Fact]
    public async Task A_user_without_entries_has_none()
    {
        Assert.Empty(await Get("nobody", null, 100));
        Assert.Empty(await Get("nobody", ["chat:a"]));
        Assert.False(await Remove("nobody", "chat:a"));
    }

    [Fact]
    public async Task Remove_forgets_the_entry_its_marker_and_mentions_and_answers_whether_there_was_one()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 10, 10, Noon));
        await Mention("chat:a", ["alice"], new Position(E1, 12));
        await Set("alice", "chat:b", new ReadMarker(E1, 1, 1, Noon));

        Assert.True(await Remove("alice", "chat:a"));
        Assert.False(await Remove("alice", "chat:a"));

        Assert.Empty(await Get("alice", ["chat:a"]));
        Assert.Equal(["chat:b"], await Channels("alice", 10));

        // Nothing of the old entry is left: a lower marker is a first one again.
        var again = await Set("alice", "chat:a", new ReadMarker(E1, 2, 2, Noon));
        Assert.True(again.Changed);
        Assert.Empty((await Entry("alice", "chat:a")).Mentions);
    }

    [Fact]
    public async Task Users_and_channels_are_independent()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 5, 5, Noon));
        await Set("alice", "chat:b", new ReadMarker(E1, 7, 7, Noon));
        await Set("bob", "chat:a", new ReadMarker(E2, 9, 9, Noon));
        await Mention("chat:a", ["alice"], new Position(E1, 6));

        Assert.False((await Set("bob", "chat:a", new ReadMarker(E2, 8, 8, Noon))).Changed);
        Assert.True((await Set("alice", "chat:b", new ReadMarker(E1, 6, 6, Noon), allowBackward: true)).Changed);
        Assert.True(await Remove("bob", "chat:a"));

        var alice = await Get("alice", ["chat:a", "chat:b"]);
        Assert.Equal(5, alice.Single(e => e.Channel == "chat:a").Marker!.Offset);
        Assert.Equal([new Position(E1, 6)], alice.Single(e => e.Channel == "chat:a").Mentions);
        Assert.Equal(6, alice.Single(e => e.Channel == "chat:b").Marker!.Offset);
        Assert.Empty(alice.Single(e => e.Channel == "chat:b").Mentions);
        Assert.Empty(await Get("bob", null, 10));
    }

    protected static void AssertMarker(ReadMarker expected, ReadMarker? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.Offset, actual.Offset);
        Assert.Equal(expected.N, actual.N);
        Assert.Equal(expected.UpdatedAt.ToUnixTimeMilliseconds(), actual.UpdatedAt.ToUnixTimeMilliseconds());
    }

    protected async Task<MarkerUpdate> Set(string user, string channel, ReadMarker marker, bool allowBackward = false) =>
        await Store.SetMarkerAsync(user, channel, marker, allowBackward ? MarkerWrite.ReadBackward : MarkerWrite.Read).AsTask().WaitAsync(Timeout);

    protected async Task<IReadOnlyList<ReadEntry>> Get(string user, IReadOnlyList<string>? channels, int limit = 1000) =>
        await Store.GetAsync(user, channels, limit).AsTask().WaitAsync(Timeout);

    protected async Task<ReadEntry> Entry(string user, string channel) =>
        Assert.Single(await Get(user, [channel]));

    protected async Task<IReadOnlyList<string>> Channels(string user, int limit) =>
        [.. (await Get(user, null, limit)).Select(e => e.Channel)];

    protected async Task Mention(string channel, IReadOnlyList<string> users, Position position, int keep = 10) =>
        await Store.MentionAsync(channel, users, position, keep).AsTask().WaitAsync(Timeout);

    protected async Task Join(string channel, IReadOnlyList<string> users) =>
        await Store.JoinAsync(channel, users).AsTask().WaitAsync(Timeout);

    protected async Task<bool> Remove(string user, string channel) =>
        await Store.RemoveAsync(user, channel).AsTask().WaitAsync(Timeout);
}
