using System.Text.Json;
using Herald.Engine;
using Herald.Presence;

namespace Herald.Specification;

/// <summary>
/// What every <see cref="IPresenceStore"/> promises (docs/architecture.md): visible changes numbered
/// contiguously and published in that order, counts-only changes never numbered, the leave grace,
/// leases, resume windows, paging and online counts. Each store's test class derives from this.
/// </summary>
public abstract class PresenceStoreSpec : IAsyncLifetime
{
    private static readonly PresenceLimits s_limits = PresenceLimits.Default with { ResumeDiffs = 3 };

    protected ManualTimeProvider Time { get; } = new();

    protected IPresenceStore Store { get; private set; } = null!;

    protected RecordingHandler Events { get; } = new();

    private IBroker broker = null!;

    protected abstract Task<(IPresenceStore Store, IBroker Broker)> CreateAsync(TimeProvider time);

    public async Task InitializeAsync()
    {
        (Store, broker) = await CreateAsync(Time);
        broker.Start(Events);
    }

    public virtual async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Joins_are_numbered_contiguously_and_published_in_order_while_a_second_connection_changes_only_counts()
    {
        const string channel = "room:spec-join";
        await broker.SubscribeAsync(channel);
        var first = await Store.ApplyAsync(channel, [Join("n/1", "alice")], s_limits);
        var second = await Store.ApplyAsync(channel, [Join("n/2", "bob"), Join("n/3", "carol")], s_limits);
        var tab = await Store.ApplyAsync(channel, [Join("n/4", "alice")], s_limits);

        Assert.True(first.Diffed);
        Assert.Equal(first.Seq + 1, second.Seq);
        Assert.False(tab.Diffed);
        Assert.Equal(second.Seq, tab.Seq);
        Assert.Equal(new PresenceCounts(3, 4), tab.Counts);

        var events = await EventsAsync(channel, 3);
        Assert.Equal([PresenceEvents.Diff, PresenceEvents.Diff, PresenceEvents.Count], events.Select(e => e.Kind));
        var diffs = events.Take(2).Select(e => JsonDocument.Parse(e.Payload).RootElement).ToList();
        Assert.Equal(diffs[0].GetProperty("to").GetInt64(), diffs[1].GetProperty("from").GetInt64());
        Assert.Equal(["bob", "carol"], diffs[1].GetProperty("join").EnumerateArray().Select(m => m.GetProperty("user").GetString()));
    }

    [Fact]
    public async Task A_leave_with_grace_keeps_the_user_listed_a_rejoin_cancels_it_and_maintenance_applies_it_when_due()
    {
        const string channel = "room:spec-grace";
        await Store.ApplyAsync(channel, [Join("n/1", "alice"), Join("n/2", "bob")], s_limits);
        var graced = await Store.ApplyAsync(channel, [Leave("n/2", "bob", TimeSpan.FromSeconds(10))], s_limits);
        Assert.False(graced.Diffed);
        Assert.Equal(new PresenceCounts(2, 1), graced.Counts);

        var back = await Store.ApplyAsync(channel, [Join("n/3", "bob")], s_limits);
        Assert.False(back.Diffed);

        await Store.ApplyAsync(channel, [Leave("n/3", "bob", TimeSpan.FromSeconds(10))], s_limits);
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, (await Store.MaintainAsync("n", s_limits)).Leaves);
        Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(1, (await Store.MaintainAsync("n", s_limits)).Leaves);
        var page = await Store.ReadAsync(channel, null, 10);
        Assert.Equal(["alice"], page.Members.Select(m => m.User));
        Assert.Equal(back.Seq + 1, page.Seq);
    }

    [Fact]
    public async Task A_leased_connection_leaves_when_its_lease_passes_unless_renewed()
    {
        const string channel = "room:spec-lease";
        var lease = TimeSpan.FromSeconds(30);
        await Store.ApplyAsync(channel, [Join("poll/dave", "dave", expires: lease)], s_limits);
        Time.Advance(TimeSpan.FromSeconds(20));
        await Store.ApplyAsync(channel, [Join("poll/dave", "dave", expires: lease)], s_limits);
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, (await Store.MaintainAsync("n", s_limits)).Leaves);
        Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(1, (await Store.MaintainAsync("n", s_limits)).Leaves);
        Assert.Empty((await Store.ReadAsync(channel, null, 10)).Members);
    }

    [Fact]
    public async Task ReadDiffs_gives_exactly_the_missed_diffs_within_the_window_and_null_beyond_it_or_in_another_epoch()
    {
        const string channel = "room:spec-resume";
        var start = await Store.ApplyAsync(channel, [Join("n/1", "alice")], s_limits);
        var epoch = (await Store.ReadAsync(channel, null, 1)).Epoch;
        await Store.ApplyAsync(channel, [Join("n/2", "u2")], s_limits);
        await Store.ApplyAsync(channel, [Join("n/3", "u3")], s_limits);

        var missed = await Store.ReadDiffsAsync(channel, epoch, start.Seq);
        Assert.NotNull(missed);
        Assert.Equal(2, missed.Count);
        Assert.Equal(start.Seq, JsonDocument.Parse(missed[0]).RootElement.GetProperty("from").GetInt64());
        Assert.Empty((await Store.ReadDiffsAsync(channel, epoch, start.Seq + 2))!);

        await Store.ApplyAsync(channel, [Join("n/4", "u4")], s_limits);
        await Store.ApplyAsync(channel, [Join("n/5", "u5")], s_limits);
        Assert.Null(await Store.ReadDiffsAsync(channel, epoch, start.Seq));
        Assert.Null(await Store.ReadDiffsAsync(channel, "another-epoch", start.Seq + 4));
        Assert.Null(await Store.ReadDiffsAsync(channel, epoch, start.Seq + 99));
    }

    [Fact]
    public async Task Members_page_by_user_id_anonymous_connections_are_counted_not_listed_and_online_counts_span_channels()
    {
        await Store.ApplyAsync("room:spec-a", [Join("n/1", "carol"), Join("n/2", "alice"), Join("n/3", "bob"), Join("n/4", null)], s_limits);
        await Store.ApplyAsync("room:spec-b", [Join("n/5", "alice")], s_limits);

        var first = await Store.ReadAsync("room:spec-a", null, 2);
        Assert.Equal(["alice", "bob"], first.Members.Select(m => m.User));
        Assert.Equal(new PresenceCounts(3, 4), first.Counts);
        var second = await Store.ReadAsync("room:spec-a", first.Next, 2);
        Assert.Equal(["carol"], second.Members.Select(m => m.User));
        Assert.Null(second.Next);

        var online = await Store.OnlineAsync(["alice", "bob", "zed"]);
        Assert.Equal(2, online["alice"]);
        Assert.Equal(1, online["bob"]);
        Assert.Equal(0, online["zed"]);
    }

    [Fact]
    public async Task A_status_or_info_change_is_an_update_and_an_unchanged_one_is_nothing()
    {
        const string channel = "room:spec-status";
        await Store.ApplyAsync(channel, [Join("n/1", "alice")], s_limits);
        var away = await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Status, "n/1", "alice", Status: "away")], s_limits);
        var same = await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Status, "n/1", "alice", Status: "away")], s_limits);
        Assert.True(away.Diffed);
        Assert.False(same.Diffed);
        Assert.Equal("away", (await Store.ReadAsync(channel, null, 1)).Members[0].Status);
    }

    [Fact]
    public async Task Each_call_reports_the_occupancy_joins_and_leaves_it_made_and_nothing_else()
    {
        const string channel = "room:spec-transitions";
        var info = """{"name":"Alice"}"""u8.ToArray();

        var anonymous = (await Store.ApplyAsync(channel, [Join("n/0", null)], s_limits)).Transition;
        Assert.NotNull(anonymous);
        Assert.True(anonymous.Occupied);
        Assert.Empty(anonymous.Joined);
        Assert.Equal(Time.GetUtcNow(), anonymous.At);

        var alice = (await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Join, "n/1", "alice", info)], s_limits)).Transition;
        Assert.NotNull(alice);
        Assert.False(alice.Occupied);
        var joined = Assert.Single(alice.Joined);
        Assert.Equal("alice", joined.User);
        Assert.Equal(info, joined.Info.ToArray());

        // A second tab, the anonymous connection going, a tab closing, the last one dropping into
        // its grace: someone is still present and alice is still listed — nothing to tell.
        Assert.Null((await Store.ApplyAsync(channel, [Join("n/2", "alice")], s_limits)).Transition);
        Assert.Null((await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Leave, "n/0", null)], s_limits)).Transition);
        Assert.Null((await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Leave, "n/1", "alice")], s_limits)).Transition);
        Assert.Null((await Store.ApplyAsync(channel, [Leave("n/2", "alice", TimeSpan.FromSeconds(10))], s_limits)).Transition);
        Assert.Empty((await Store.MaintainAsync("n", s_limits)).Transitions);

        Time.Advance(TimeSpan.FromSeconds(11));
        var maintained = await Store.MaintainAsync("n", s_limits);
        var vacated = Assert.Single(maintained.Transitions);
        Assert.Equal((channel, true, false, "alice"), (vacated.Channel, vacated.Vacated, vacated.Occupied, Assert.Single(vacated.Left)));
        Assert.Empty((await Store.MaintainAsync("n", s_limits)).Transitions);

        // In one call: bob joins and leaves at once — nobody was there and nobody is.
        Assert.Null((await Store.ApplyAsync(channel, [Join("n/3", "bob"), new PresenceChange(PresenceChangeKind.Leave, "n/3", "bob")], s_limits)).Transition);
        var again = (await Store.ApplyAsync(channel, [Join("n/4", "carol"), Join("n/5", "dave")], s_limits)).Transition;
        Assert.True(again!.Occupied);
        Assert.Equal(["carol", "dave"], again.Joined.Select(m => m.User).Order(StringComparer.Ordinal));
        var gone = (await Store.ApplyAsync(channel, [new PresenceChange(PresenceChangeKind.Leave, "n/4", "carol"), new PresenceChange(PresenceChangeKind.Leave, "n/5", "dave")], s_limits)).Transition;
        Assert.True(gone!.Vacated);
        Assert.Equal(["carol", "dave"], gone.Left.Order(StringComparer.Ordinal));
    }

    private PresenceChange Join(string connection, string? user, TimeSpan? expires = null) =>
        new(PresenceChangeKind.Join, connection, user, ExpiresAt: expires is { } lease ? Time.GetUtcNow() + lease : null);

    private PresenceChange Leave(string connection, string? user, TimeSpan grace) =>
        new(PresenceChangeKind.Leave, connection, user, LeaveAt: Time.GetUtcNow() + grace);

    private async Task<List<ChannelEvent>> EventsAsync(string channel, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var events = Events.Events.Where(e => e.Channel == channel).ToList();
            if (events.Count >= count)
                return events;
            await Task.Delay(20, timeout.Token);
        }
    }
}

/// <summary>The one-node store, on the in-process broker.</summary>
public sealed class MemoryPresenceStoreTests : PresenceStoreSpec
{
    protected override Task<(IPresenceStore Store, IBroker Broker)> CreateAsync(TimeProvider time)
    {
        var broker = new Herald.Engine.Memory.InProcessBroker();
        return Task.FromResult<(IPresenceStore, IBroker)>((new MemoryPresenceStore(broker, time), broker));
    }
}
