using System.Text;
using Herald.Channels;
using Herald.Publishing;

namespace Herald.Tests.Publishing;

public sealed class LatestViewTests
{
    private static IReadOnlyList<LatestMessage> Fold(FoldLog log, ReactionPolicy reactions = ReactionPolicy.Distinct, int usersListed = 20) =>
        LatestView.Fold(log.Publications, new ChannelPolicy { Reactions = reactions, ReactionUsersListed = usersListed });

    private static string Text(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    private static string Reactions(LatestMessage message) =>
        string.Join(" ", message.Reactions.Select(r => $"{r.Key}={r.Count}[{string.Join(",", r.Users)}]"));

    [Fact]
    public void Messages_only_are_listed_in_offset_order_unchanged_at_version_1()
    {
        var log = new FoldLog();
        log.Message("alice", """{"t":"one"}""");
        log.React("bob", 1, "+1");
        log.Message(null, """[1,2]""", type: "notice");

        var messages = Fold(log);
        Assert.Equal([1L, 3], messages.Select(m => m.Publication.Offset));
        Assert.Equal("""{"t":"one"}""", Text(messages[0].Data));
        Assert.Equal(1, messages[1].Version);
        Assert.Null(messages[1].EditedAt);
        Assert.False(messages[1].Deleted);
        Assert.Empty(messages[1].Reactions);
        Assert.True(messages[1].Thread.IsEmpty);
    }

    [Fact]
    public void Edits_replace_the_data_count_a_version_each_and_stamp_the_newest()
    {
        var log = new FoldLog();
        log.Message("alice", """{"t":"helo"}""");
        log.Edit("alice", 1, """{"t":"hello"}""");
        var second = log.Edit("alice", 1, """{"t":"hello!"}""");
        log.Edit("alice", 1, "null");

        var message = Assert.Single(Fold(log));
        Assert.Equal(4, message.Version);
        Assert.Equal("null", Text(message.Data));
        Assert.Equal(FoldLog.TimeOf(second + 1), message.EditedAt);
        Assert.Equal("""{"t":"helo"}""", Text(message.Publication.Data));
    }

    [Fact]
    public void A_delete_tombstones_the_message_and_later_edits_and_reactions_are_ignored()
    {
        var log = new FoldLog();
        log.Message("alice", """{"t":"oops"}""");
        log.Edit("alice", 1, """{"t":"oops!"}""");
        log.React("bob", 1, "+1");
        log.Delete("alice", 1);
        log.Edit("alice", 1, """{"t":"back"}""");
        log.React("carol", 1, "+1");
        log.Thread(1, 4);

        var message = Assert.Single(Fold(log));
        Assert.True(message.Deleted);
        Assert.True(message.Data.IsEmpty);
        Assert.Equal(2, message.Version);
        Assert.Empty(message.Reactions);
        Assert.False(message.Thread.IsEmpty); // The replies outlive their root.
    }

    [Fact]
    public void Distinct_counts_a_user_once_per_key_and_an_unreact_takes_it_back()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "+1");
        log.React("bob", 1, "+1");
        log.React("carol", 1, "+1");
        log.React("bob", 1, "heart");
        log.Unreact("carol", 1, "+1");
        log.Unreact("dave", 1, "+1"); // Never reacted: nothing to take back.

        Assert.Equal("+1=1[bob] heart=1[bob]", Reactions(Assert.Single(Fold(log))));
    }

    [Fact]
    public void Unique_keeps_only_each_users_newest_key()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "+1");
        log.React("carol", 1, "+1");
        log.React("bob", 1, "heart");
        log.React("bob", 1, "heart");
        log.Unreact("carol", 1, "heart"); // Not carol's key: ignored.

        Assert.Equal("+1=1[carol] heart=1[bob]", Reactions(Assert.Single(Fold(log, ReactionPolicy.Unique))));

        log.Unreact("carol", 1, "+1");
        Assert.Equal("heart=1[bob]", Reactions(Assert.Single(Fold(log, ReactionPolicy.Unique))));
    }

    [Fact]
    public void Multiple_counts_every_react_and_an_unreact_takes_one_back()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "clap");
        log.React("bob", 1, "clap");
        log.React("carol", 1, "clap");
        log.React("bob", 1, "clap");
        log.Unreact("bob", 1, "clap");
        log.Unreact("carol", 1, "clap");
        log.Unreact("carol", 1, "clap"); // Nothing left of carol's.

        Assert.Equal("clap=2[bob]", Reactions(Assert.Single(Fold(log, ReactionPolicy.Multiple))));
    }

    [Fact]
    public void Reactions_Off_shows_none_and_reactions_without_a_user_never_count()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "+1");
        log.React(null, 1, "+1");

        Assert.Empty(Assert.Single(Fold(log, ReactionPolicy.Off)).Reactions);
        Assert.Equal("+1=1[bob]", Reactions(Assert.Single(Fold(log))));
    }

    [Fact]
    public void Users_listed_are_the_earliest_up_to_ReactionUsersListed_and_the_count_is_all_of_them()
    {
        var log = new FoldLog();
        log.Message("alice");
        foreach (var user in new[] { "u3", "u1", "u2" })
            log.React(user, 1, "+1");

        Assert.Equal("+1=3[u3,u1,u2]", Reactions(Assert.Single(Fold(log, usersListed: 3))));
        Assert.Equal("+1=3[u3,u1]", Reactions(Assert.Single(Fold(log, usersListed: 2))));
        Assert.Equal("+1=3[]", Reactions(Assert.Single(Fold(log, usersListed: 0))));

        // A user who took the reaction back and gave it again is listed from the new one.
        log.Unreact("u3", 1, "+1");
        log.React("u3", 1, "+1");
        Assert.Equal("+1=3[u1,u2]", Reactions(Assert.Single(Fold(log, usersListed: 2))));
    }

    [Fact]
    public void Keys_are_in_the_order_of_their_first_reaction_and_a_key_that_emptied_starts_again()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "b");
        log.React("bob", 1, "a");
        log.React("carol", 1, "b");
        Assert.Equal("b=2[bob,carol] a=1[bob]", Reactions(Assert.Single(Fold(log))));

        log.Unreact("bob", 1, "b");
        log.Unreact("carol", 1, "b");
        log.React("carol", 1, "b");
        Assert.Equal("a=1[bob] b=1[carol]", Reactions(Assert.Single(Fold(log))));
    }

    [Fact]
    public void Actions_about_offsets_the_view_does_not_hold_or_with_a_bad_shape_are_ignored()
    {
        var log = new FoldLog();
        log.Message("alice", "1");
        var reaction = log.React("bob", 1, "+1");
        log.Edit("bob", reaction, "2");                                          // About an action.
        log.Edit("alice", 99, "3");                                              // About an offset never seen.
        log.Add("alice", ActionTypes.Edit, """{"ref":1}""");                     // No data.
        log.Add("alice", ActionTypes.Edit, """{"ref":"1","data":4}""");          // ref not a number.
        log.Add("alice", ActionTypes.Delete, """[1]""");                         // Not an object.
        log.Add("alice", ActionTypes.Read, """{"ref":1}""");                     // Not folded.
        log.Add("alice", "herald.future", """{"ref":1}""");                      // Reserved, unknown: neither message nor action.

        var message = Assert.Single(Fold(log));
        Assert.Equal("1", Text(message.Data));
        Assert.Equal(1, message.Version);
        Assert.False(message.Deleted);
        Assert.Equal("+1=1[bob]", Reactions(message));
    }

    [Fact]
    public void The_summary_with_the_most_replies_is_the_messages_thread()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.Message("bob");
        log.Thread(1, 3);
        log.Thread(1, 7);

        var messages = Fold(log);
        Assert.Contains("\"replies\":7", Text(messages[0].Thread), StringComparison.Ordinal);
        Assert.True(messages[1].Thread.IsEmpty);

        // Another node's summary of an older state, appended later, does not go back.
        log.Thread(1, 5);
        Assert.Contains("\"replies\":7", Text(Fold(log)[0].Thread), StringComparison.Ordinal);
    }

    [Fact]
    public void A_publication_at_or_below_the_newest_offset_added_is_dropped()
    {
        var log = new FoldLog();
        log.Message("alice");
        log.React("bob", 1, "+1");
        var view = LatestView.For(new ChannelPolicy());
        Assert.True(view.Add(log.Publications[0]));
        Assert.True(view.Add(log.Publications[1]));
        Assert.False(view.Add(log.Publications[1]));
        Assert.False(view.Add(log.Publications[0]));
        Assert.Equal(2, view.LastOffset);
        Assert.Equal("+1=1[bob]", Reactions(Assert.Single(view.Messages)));
    }

    [Fact]
    public void Folding_a_stream_in_two_parts_gives_what_folding_it_at_once_gives()
    {
        var log = new FoldLog();
        log.Message("alice", "1");
        log.Message("bob", "2");
        log.React("carol", 1, "+1");
        log.Edit("bob", 2, "22");
        log.React("carol", 2, "+1");
        log.Unreact("carol", 1, "+1");
        log.Delete("alice", 1);

        var once = Fold(log);
        var view = LatestView.For(new ChannelPolicy());
        foreach (var publication in log.Publications.Take(3))
            view.Add(publication);
        foreach (var publication in log.Publications.Skip(2)) // The resumed part repeats one.
            view.Add(publication);

        Assert.Equal(once.Select(Describe), view.Messages.Select(Describe));

        static string Describe(LatestMessage m) =>
            $"{m.Publication.Offset} v{m.Version} {(m.Deleted ? "deleted" : Text(m.Data))} {Reactions(m)}";
    }

    [Fact]
    public void MaxMessages_and_Track_choose_the_messages_held_and_their_actions()
    {
        var log = new FoldLog();
        log.Message("a");
        log.Message("b");
        log.Message("c");
        log.Edit("c", 3, "\"c2\"");
        log.Edit("a", 1, "\"a2\"");

        var first = new LatestView(ReactionPolicy.Distinct, 20) { MaxMessages = 2 };
        var tracked = new LatestView(ReactionPolicy.Distinct, 20) { Track = offset => offset == 3 };
        foreach (var publication in log.Publications)
        {
            first.Add(publication);
            tracked.Add(publication);
        }

        Assert.Equal([1L, 2], first.Messages.Select(m => m.Publication.Offset));
        Assert.Equal(2, first.Messages[0].Version);
        var third = Assert.Single(tracked.Messages);
        Assert.Equal("\"c2\"", Text(third.Data));
    }
}
