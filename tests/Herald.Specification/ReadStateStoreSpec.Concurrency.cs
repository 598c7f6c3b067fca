using System.Globalization;
using Herald.Engine;
using Herald.Reading;

namespace Herald.Specification;

public abstract partial class ReadStateStoreSpec
{
    [Fact]
    public async Task Concurrent_markers_end_with_the_highest_offset_and_each_change_was_a_strict_increase()
    {
        // Offsets repeat on purpose: two calls with one offset must not both answer Changed.
        var random = new Random(20261203);
        var offsets = Enumerable.Range(0, 400).Select(_ => (long)random.Next(1, 120)).ToList();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = offsets.Select(offset => Task.Run(async () =>
        {
            await go.Task;
            var update = await Store.SetMarkerAsync("alice", "chat:race", new ReadMarker(E1, offset, offset, Noon.AddMilliseconds(offset)), MarkerWrite.Read);
            return (Offset: offset, Update: update);
        })).ToList();
        go.SetResult();
        var results = await Task.WhenAll(calls).WaitAsync(Timeout);

        var max = offsets.Max();
        AssertMarker(new ReadMarker(E1, max, max, Noon.AddMilliseconds(max)), (await Entry("alice", "chat:race")).Marker);
        var changes = results.Where(r => r.Update.Changed).Select(r => r.Offset).ToList();
        Assert.Equal(changes.Count, changes.Distinct().Count());
        Assert.Contains(max, changes);
        foreach (var (offset, update) in results)
        {
            // Never a torn marker: its parts are of one call.
            Assert.Equal(update.Marker.Offset, update.Marker.N);
            if (update.Changed)
                Assert.Equal(offset, update.Marker.Offset);
            else
                Assert.True(update.Marker.Offset >= offset, $"A refused marker {offset} was answered with the lower {update.Marker.Offset}.");
        }
    }

    [Fact]
    public async Task Concurrent_mentions_keep_exactly_the_newest_once_each()
    {
        // 1..100 twice, shuffled: duplicates race with their originals.
        var random = new Random(7);
        var offsets = Enumerable.Range(1, 100).Concat(Enumerable.Range(1, 100)).Select(o => (long)o).OrderBy(_ => random.Next()).ToList();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = offsets.Select(offset => Task.Run(async () =>
        {
            await go.Task;
            await Store.MentionAsync("chat:race", ["alice", "bob"], new Position(E1, offset), keep: 20);
        })).ToList();
        go.SetResult();
        await Task.WhenAll(calls).WaitAsync(Timeout);

        foreach (var user in new[] { "alice", "bob" })
            Assert.Equal(Enumerable.Range(81, 20).Select(o => (long)o), await MentionOffsets(user, "chat:race"));
    }

    [Fact]
    public async Task Five_hundred_channels_of_one_user_are_read_back_in_one_get()
    {
        var channels = Enumerable.Range(0, 500).Select(i => "chat:c" + i.ToString("D3", CultureInfo.InvariantCulture)).ToList();
        await Task.WhenAll(channels.Select((channel, i) => Store.SetMarkerAsync("alice", channel, MarkerOf(i), MarkerWrite.Read).AsTask())).WaitAsync(Timeout);
        await Mention("chat:c007", ["alice"], new Position(E1, 500));

        var entries = await Get("alice", channels);

        Assert.Equal(500, entries.Count);
        foreach (var entry in entries)
            AssertMarker(MarkerOf(int.Parse(entry.Channel.AsSpan(6), CultureInfo.InvariantCulture)), entry.Marker);
        Assert.Equal([new Position(E1, 500)], entries.Single(e => e.Channel == "chat:c007").Mentions);
        Assert.Equal(channels, (await Get("alice", null, 1000)).Select(e => e.Channel).Order(StringComparer.Ordinal));
        Assert.Equal(100, (await Get("alice", null, 100)).Select(e => e.Channel).Distinct().Count());
        Assert.Equal("chat:c007", Assert.Single(await Get("alice", null, 1)).Channel);

        static ReadMarker MarkerOf(int i) => new(E1, i + 1, i, Noon.AddMilliseconds(i));
    }

    [Fact]
    public async Task User_ids_and_channel_names_with_unusual_but_valid_characters_are_kept_apart()
    {
        string[] users = ["a:b", "a", "b", "a:b:c", "~", "k=v", "me@example.com", "Zoë", "用户", "emoji😀", "a}b{c", "{u:a}", "a b"];
        string[] channels = ["chat:a.b=c@d~e", "chat:a", "dm:x@y~z=w", "chat:~", "chat:="];
        for (var u = 0; u < users.Length; u++)
        {
            for (var c = 0; c < channels.Length; c++)
                await Set(users[u], channels[c], MarkerOf(u, c));
        }

        await Mention("chat:a", users, new Position(E1, 1000));
        Assert.True(await Remove("a:b", "chat:="));

        for (var u = 0; u < users.Length; u++)
        {
            var expected = channels.Where(c => users[u] != "a:b" || c != "chat:=").Order(StringComparer.Ordinal).ToList();
            var listed = await Get(users[u], null, 100);
            Assert.Equal(expected, listed.Select(e => e.Channel).Order(StringComparer.Ordinal));
            var named = await Get(users[u], channels);
            Assert.Equal(expected, named.Select(e => e.Channel).Order(StringComparer.Ordinal));
            foreach (var entry in named)
            {
                AssertMarker(MarkerOf(u, Array.IndexOf(channels, entry.Channel)), entry.Marker);
                Assert.Equal(entry.Channel == "chat:a" ? [new Position(E1, 1000)] : [], entry.Mentions);
            }
        }

        static ReadMarker MarkerOf(int user, int channel) => new(E1, (user * 10) + channel + 1, user, Noon.AddSeconds(channel));
    }
}
