using Herald.Engine;
using Herald.Reading;

namespace Herald.Specification;

public abstract partial class ReadStateStoreSpec
{
    [Fact]
    public async Task Mentions_are_kept_oldest_first_whatever_order_they_arrive_in()
    {
        foreach (var offset in new long[] { 7, 3, 9, 5 })
            await Mention("chat:a", ["alice"], new Position(E1, offset));

        Assert.Equal([3L, 5L, 7L, 9L], await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task Only_the_newest_keep_mentions_are_kept_and_an_older_one_arriving_late_is_dropped()
    {
        for (var offset = 1; offset <= 5; offset++)
            await Mention("chat:a", ["alice"], new Position(E1, offset), keep: 3);

        Assert.Equal([3L, 4L, 5L], await MentionOffsets("alice", "chat:a"));

        await Mention("chat:a", ["alice"], new Position(E1, 2), keep: 3);
        Assert.Equal([3L, 4L, 5L], await MentionOffsets("alice", "chat:a"));

        await Mention("chat:a", ["alice"], new Position(E1, 8), keep: 3);
        Assert.Equal([4L, 5L, 8L], await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task A_mention_already_kept_is_ignored()
    {
        await Mention("chat:a", ["alice"], new Position(E1, 5));
        await Mention("chat:a", ["alice"], new Position(E1, 6));
        await Mention("chat:a", ["alice"], new Position(E1, 5));

        Assert.Equal([5L, 6L], await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task A_mention_at_or_below_the_marker_is_ignored()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 10, 10, Noon));

        await Mention("chat:a", ["alice"], new Position(E1, 9));
        await Mention("chat:a", ["alice"], new Position(E1, 10));
        Assert.Empty(await MentionOffsets("alice", "chat:a"));

        await Mention("chat:a", ["alice"], new Position(E1, 11));
        Assert.Equal([11L], await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task Setting_a_marker_drops_the_mentions_at_or_below_it_and_those_of_another_epoch()
    {
        foreach (var offset in new long[] { 3, 5, 8, 9 })
            await Mention("chat:a", ["alice"], new Position(E1, offset));

        await Set("alice", "chat:a", new ReadMarker(E1, 5, 5, Noon));
        Assert.Equal([8L, 9L], await MentionOffsets("alice", "chat:a"));

        // A marker that is not stored drops nothing.
        await Set("alice", "chat:a", new ReadMarker(E1, 4, 4, Noon));
        Assert.Equal([8L, 9L], await MentionOffsets("alice", "chat:a"));

        await Set("alice", "chat:a", new ReadMarker(E2, 1, 1, Noon));
        Assert.Empty(await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task A_backward_marker_keeps_the_mentions_after_it()
    {
        await Set("alice", "chat:a", new ReadMarker(E1, 2, 2, Noon));
        await Mention("chat:a", ["alice"], new Position(E1, 4));
        await Mention("chat:a", ["alice"], new Position(E1, 6));

        await Set("alice", "chat:a", new ReadMarker(E1, 1, 1, Noon), allowBackward: true);

        Assert.Equal([4L, 6L], await MentionOffsets("alice", "chat:a"));
    }

    [Fact]
    public async Task A_mention_of_a_new_epoch_replaces_the_mentions_of_the_old_one()
    {
        await Mention("chat:a", ["alice"], new Position(E1, 5));
        await Mention("chat:a", ["alice"], new Position(E1, 8));

        await Mention("chat:a", ["alice"], new Position(E2, 2));
        await Mention("chat:a", ["alice"], new Position(E2, 1));

        Assert.Equal([new Position(E2, 1), new Position(E2, 2)], (await Entry("alice", "chat:a")).Mentions);
    }

    [Fact]
    public async Task A_mention_of_another_epoch_than_the_marker_is_kept_and_the_marker_stays()
    {
        var marker = new ReadMarker(E1, 10, 10, Noon);
        await Set("alice", "chat:a", marker);

        await Mention("chat:a", ["alice"], new Position(E2, 3));

        var entry = await Entry("alice", "chat:a");
        AssertMarker(marker, entry.Marker);
        Assert.Equal([new Position(E2, 3)], entry.Mentions);
    }

    [Fact]
    public async Task A_mention_makes_the_channel_one_of_each_users_without_a_marker()
    {
        await Mention("chat:a", ["alice", "bob", "carol"], new Position(E1, 4));

        foreach (var user in new[] { "alice", "bob", "carol" })
        {
            var entry = Assert.Single(await Get(user, null, 10));
            Assert.Equal("chat:a", entry.Channel);
            Assert.Null(entry.Marker);
            Assert.Equal([new Position(E1, 4)], entry.Mentions);
        }
    }

    [Fact]
    public async Task A_mention_leaves_an_existing_marker_as_it_was()
    {
        var marker = new ReadMarker(E1, 4, 3, Noon);
        await Set("alice", "chat:a", marker);

        await Mention("chat:a", ["alice", "bob"], new Position(E1, 6));

        var entry = await Entry("alice", "chat:a");
        AssertMarker(marker, entry.Marker);
        Assert.Equal([new Position(E1, 6)], entry.Mentions);
    }

    [Fact]
    public async Task Keeping_no_mentions_still_makes_the_channel_one_of_the_users()
    {
        await Mention("chat:a", ["alice"], new Position(E1, 4), keep: 0);

        var entry = Assert.Single(await Get("alice", null, 10));
        Assert.Null(entry.Marker);
        Assert.Empty(entry.Mentions);
    }

    [Fact]
    public async Task A_mention_for_no_users_does_nothing()
    {
        await Mention("chat:a", [], new Position(E1, 4));
        await Join("chat:a", []);

        Assert.Empty(await Get("alice", null, 10));
    }

    private async Task<IReadOnlyList<long>> MentionOffsets(string user, string channel)
    {
        var entry = await Entry(user, channel);
        Assert.All(entry.Mentions, m => Assert.Equal(entry.Mentions[0].Epoch, m.Epoch));
        return [.. entry.Mentions.Select(m => m.Offset)];
    }
}
