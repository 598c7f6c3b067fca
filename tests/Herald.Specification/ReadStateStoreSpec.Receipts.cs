using Herald.Engine;
using Herald.Reading;

namespace Herald.Specification;

/// <summary>The receipts' part of the contract: seen and delivered markers beside the read marker, and a channel's members.</summary>
public abstract partial class ReadStateStoreSpec
{
    [Fact]
    public async Task Seen_and_delivered_are_kept_apart_from_the_read_marker_and_from_each_other()
    {
        await Set("alice", "dm:alice~bob", new ReadMarker(E1, 5, 5, Noon));

        var seen = await SetReceipt("alice", "dm:alice~bob", new ReadMarker(E1, 3, 3, Noon.AddSeconds(1)), MarkerWrite.Seen);
        var delivered = await SetReceipt("alice", "dm:alice~bob", new ReadMarker(E1, 7, 6, Noon.AddSeconds(2)), MarkerWrite.Delivered);

        Assert.True(seen.Changed);
        Assert.True(delivered.Changed);
        AssertMarker(new ReadMarker(E1, 5, 5, Noon), (await Entry("alice", "dm:alice~bob")).Marker);
        var receipt = Assert.Single(await Receipts("dm:alice~bob"));
        Assert.Equal("alice", receipt.User);
        AssertMarker(new ReadMarker(E1, 3, 3, Noon.AddSeconds(1)), receipt.Seen);
        AssertMarker(new ReadMarker(E1, 7, 6, Noon.AddSeconds(2)), receipt.Delivered);
    }

    [Fact]
    public async Task Receipt_markers_move_forward_only_and_answer_the_stored_one_otherwise()
    {
        var stored = new ReadMarker(E1, 10, 9, Noon);
        await SetReceipt("bob", "dm:alice~bob", stored, MarkerWrite.Delivered);

        var lower = await SetReceipt("bob", "dm:alice~bob", new ReadMarker(E1, 9, 8, Noon.AddMinutes(1)), MarkerWrite.Delivered);
        var higher = await SetReceipt("bob", "dm:alice~bob", new ReadMarker(E1, 11, 10, Noon.AddMinutes(2)), MarkerWrite.Delivered);
        var otherEpoch = await SetReceipt("bob", "dm:alice~bob", new ReadMarker(E2, 2, 2, Noon.AddMinutes(3)), MarkerWrite.Delivered);

        Assert.False(lower.Changed);
        AssertMarker(stored, lower.Marker);
        Assert.True(higher.Changed);
        Assert.True(otherEpoch.Changed);
        AssertMarker(new ReadMarker(E2, 2, 2, Noon.AddMinutes(3)), Assert.Single(await Receipts("dm:alice~bob")).Delivered);
    }

    [Fact]
    public async Task Read_and_seen_moves_both_markers_in_one_write_and_says_which_moved()
    {
        // A first write makes the entry, with both markers, and drops the mentions at or below it.
        await Mention("dm:alice~erin", ["erin"], new Position(E1, 4));
        await Mention("dm:alice~erin", ["erin"], new Position(E1, 9));
        var first = await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E1, 5, 5, Noon), MarkerWrite.ReadAndSeen);
        Assert.Equal((true, true), (first.Changed, first.SeenChanged));
        AssertMarker(new ReadMarker(E1, 5, 5, Noon), first.Marker);
        var entry = await Entry("erin", "dm:alice~erin");
        AssertMarker(new ReadMarker(E1, 5, 5, Noon), entry.Marker);
        Assert.Equal([new Position(E1, 9)], entry.Mentions);
        AssertMarker(new ReadMarker(E1, 5, 5, Noon), Assert.Single(await Receipts("dm:alice~erin")).Seen);

        // Not forward: neither moves, and the stored read marker is answered.
        var lower = await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E1, 3, 3, Noon.AddSeconds(1)), MarkerWrite.ReadAndSeen);
        Assert.Equal((false, false), (lower.Changed, lower.SeenChanged));
        AssertMarker(new ReadMarker(E1, 5, 5, Noon), lower.Marker);

        // A private read moved the read marker alone: the next one moves only the seen marker, to it.
        await Set("erin", "dm:alice~erin", new ReadMarker(E1, 8, 7, Noon.AddSeconds(2)));
        var seenOnly = await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E1, 6, 6, Noon.AddSeconds(3)), MarkerWrite.ReadAndSeen);
        Assert.Equal((false, true), (seenOnly.Changed, seenOnly.SeenChanged));
        AssertMarker(new ReadMarker(E1, 8, 7, Noon.AddSeconds(2)), seenOnly.Marker);
        AssertMarker(new ReadMarker(E1, 8, 7, Noon.AddSeconds(2)), Assert.Single(await Receipts("dm:alice~erin")).Seen);

        // A seen marker ahead of the read one (set on its own) stays: only the read marker moves.
        await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E1, 20, 18, Noon.AddSeconds(4)), MarkerWrite.Seen);
        var readOnly = await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E1, 12, 11, Noon.AddSeconds(5)), MarkerWrite.ReadAndSeen);
        Assert.Equal((true, false), (readOnly.Changed, readOnly.SeenChanged));
        AssertMarker(new ReadMarker(E1, 20, 18, Noon.AddSeconds(4)), Assert.Single(await Receipts("dm:alice~erin")).Seen);

        // Another epoch moves both, even at a lower offset.
        var reset = await SetReceipt("erin", "dm:alice~erin", new ReadMarker(E2, 1, 1, Noon.AddSeconds(6)), MarkerWrite.ReadAndSeen);
        Assert.Equal((true, true), (reset.Changed, reset.SeenChanged));
        AssertMarker(new ReadMarker(E2, 1, 1, Noon.AddSeconds(6)), Assert.Single(await Receipts("dm:alice~erin")).Seen);
    }

    [Fact]
    public async Task A_receipt_creates_the_entry_and_leaves_an_existing_ones_place_in_the_users_list()
    {
        await SetReceipt("carol", "chat:new", new ReadMarker(E1, 1, 1, Noon), MarkerWrite.Delivered);
        Assert.Null((await Entry("carol", "chat:new")).Marker);

        await Set("carol", "chat:old", new ReadMarker(E1, 1, 1, Noon));
        await SetReceipt("carol", "chat:new", new ReadMarker(E1, 2, 2, Noon), MarkerWrite.Seen);

        Assert.Equal(["chat:old", "chat:new"], await Channels("carol", 10));
    }

    [Fact]
    public async Task A_channels_receipts_list_every_member_in_user_order_up_to_the_limit_and_not_other_channels()
    {
        await Set("dave", "chat:r", new ReadMarker(E1, 1, 1, Noon));
        await Mention("chat:r", ["bob"], new Position(E1, 2));
        await Join("chat:r", ["carol"]);
        await SetReceipt("alice", "chat:r", new ReadMarker(E1, 2, 2, Noon), MarkerWrite.Seen);
        await Set("erin", "chat:other", new ReadMarker(E1, 1, 1, Noon));

        var all = await Receipts("chat:r");
        var first2 = await Receipts("chat:r", 2);

        Assert.Equal(["alice", "bob", "carol", "dave"], all.Select(r => r.User));
        Assert.Null(all[1].Seen);
        Assert.Null(all[1].Delivered);
        Assert.Equal(2, all[0].Seen!.Offset);
        Assert.Equal(["alice", "bob"], first2.Select(r => r.User));
        Assert.Empty(await Receipts("chat:none"));
    }

    [Fact]
    public async Task Remove_takes_the_user_out_of_the_channels_receipts_with_the_markers()
    {
        await SetReceipt("alice", "chat:r", new ReadMarker(E1, 2, 2, Noon), MarkerWrite.Seen);
        await SetReceipt("bob", "chat:r", new ReadMarker(E1, 2, 2, Noon), MarkerWrite.Delivered);

        Assert.True(await Remove("alice", "chat:r"));
        Assert.Equal(["bob"], (await Receipts("chat:r")).Select(r => r.User));

        await Join("chat:r", ["alice"]);
        var again = (await Receipts("chat:r")).Single(r => r.User == "alice");
        Assert.Null(again.Seen);
        Assert.Null(again.Delivered);
    }

    protected async Task<MarkerUpdate> SetReceipt(string user, string channel, ReadMarker marker, MarkerWrite write) =>
        await Store.SetMarkerAsync(user, channel, marker, write).AsTask().WaitAsync(Timeout);

    protected async Task<IReadOnlyList<MemberReceipt>> Receipts(string channel, int limit = 100) =>
        await Store.GetReceiptsAsync(channel, limit).AsTask().WaitAsync(Timeout);
}
