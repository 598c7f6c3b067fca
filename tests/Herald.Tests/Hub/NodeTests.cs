using System.Collections.Concurrent;
using System.Text;
using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Hub;

namespace Herald.Tests.Hub;

/// <summary>
/// The node between a broker and the local readers: it follows a channel (broker first, then the
/// top), delivers each offset once and in order whatever the broker does (duplicates, jumps,
/// losses, another epoch), and lets go of a channel only after the linger.
/// </summary>
public sealed class NodeTests : IAsyncDisposable
{
    private const string Channel = "chat:lobby";
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;
    private static readonly Retention s_roomy = new(100_000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));

    private readonly ConcurrentQueue<string> _calls = new();
    private readonly List<IAsyncDisposable> _owned = [];

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
    }

    [Fact]
    public async Task The_first_subscriber_makes_the_node_subscribe_the_broker_and_only_then_read_the_top()
    {
        var log = new RecordingLog(new MemoryChannelLog(), _calls);
        var (node, _) = NewNode(log, new ScriptedBroker(_calls));

        var session = NewSession(node);
        await session.SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);
        await NewSession(node).SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);

        // The node's two steps, then each session's own state read; the second subscriber causes no second follow.
        Assert.Equal(["subscribe " + Channel, "state " + Channel, "state " + Channel, "state " + Channel], _calls.ToArray());
        Assert.True(node.IsFollowing(Channel));
    }

    [Fact]
    public async Task A_jump_is_filled_from_the_log_and_what_was_delivered_already_is_dropped()
    {
        var log = new MemoryChannelLog();
        var broker = new ScriptedBroker(_calls);
        var (node, _) = NewNode(log, broker);
        var transport = new TestTransport();
        await NewSession(node, transport).SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);

        // Committed, but the broker lost 1 and 2: 3 reveals the gap.
        var published = new List<Publication>();
        for (var i = 1; i <= 3; i++)
            published.Add(await AppendAsync(log, i));
        broker.Deliver(published[2]);
        broker.Deliver(published[1]);
        broker.Deliver(published[2]);
        published.Add(await AppendAsync(log, 4));
        broker.Deliver(published[3]);

        await transport.WaitForMessagesAsync(4);
        await WaitUntilAsync(() => node.DuplicateCount == 2, "both duplicates counted");
        Assert.Equal([1L, 2, 3, 4], transport.Offsets(Channel));
        Assert.Equal(2, node.RepairedCount);
    }

    [Fact]
    public async Task Another_epoch_resets_every_local_reader_explicitly_and_a_straggler_of_the_old_one_is_dropped()
    {
        var log = new MemoryChannelLog();
        var broker = new ScriptedBroker(_calls);
        var (node, polls) = NewNode(log, broker);
        var old = await AppendAsync(log, 1);
        var transport = new TestTransport();
        var session = NewSession(node, transport);
        await session.SubscribeAsync(Channel, old.Position, log).AsTask().WaitAsync(s_timeout);
        using var poll = polls.Register([Channel]);
        await poll.Following.WaitAsync(s_timeout);
        var woken = poll.WaitAsync(CancellationToken.None);

        // The history is lost (removed here; a Redis restarted empty in production): a new epoch.
        await log.RemoveAsync(Channel);
        broker.Deliver(await AppendAsync(log, 1));

        Assert.Equal(DisconnectReason.InsufficientState, await transport.Closed.Task.WaitAsync(s_timeout));
        Assert.Same(PollWaiter.Reread, await woken.WaitAsync(s_timeout));

        var straggler = new Publication { Channel = Channel, Offset = 2, Epoch = old.Epoch, Id = "x", Time = old.Time, Data = "1"u8.ToArray() };
        broker.Deliver(straggler);
        await WaitUntilAsync(() => node.DuplicateCount == 1, "the straggler dropped");
        Assert.Equal(1, node.ResetCount);
    }

    [Fact]
    public async Task A_publication_whose_broker_message_was_lost_arrives_through_the_periodic_top_check()
    {
        var log = new MemoryChannelLog();
        var broker = new ScriptedBroker(_calls) { MayLoseMessages = true };
        var (node, _) = NewNode(log, broker, new NodeOptions { TopCheckInterval = TimeSpan.FromMilliseconds(200) });
        var transport = new TestTransport();
        await NewSession(node, transport).SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);

        // Never delivered by the broker; no later publication reveals the gap.
        await AppendAsync(log, 1);

        await transport.WaitForMessagesAsync(1);
        Assert.Equal([1L], transport.Offsets(Channel));
        Assert.Equal(1, node.RepairedCount);
    }

    [Fact]
    public async Task After_a_broker_reconnect_every_followed_channel_is_caught_up()
    {
        var log = new MemoryChannelLog();
        var broker = new ScriptedBroker(_calls) { MayLoseMessages = false };
        var (node, _) = NewNode(log, broker);
        var transport = new TestTransport();
        await NewSession(node, transport).SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);

        await AppendAsync(log, 1);
        await AppendAsync(log, 2);
        broker.Reconnected();

        await transport.WaitForMessagesAsync(2);
        Assert.Equal([1L, 2], transport.Offsets(Channel));
    }

    [Fact]
    public async Task The_broker_is_unsubscribed_only_after_the_linger_and_a_reader_back_within_it_keeps_the_subscription()
    {
        var log = new MemoryChannelLog();
        var broker = new ScriptedBroker(_calls);
        var (node, _) = NewNode(log, broker, new NodeOptions { SubscriptionLinger = TimeSpan.FromMilliseconds(600) });

        var first = NewSession(node);
        await first.SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);
        Assert.True(first.Unsubscribe(Channel));
        var second = NewSession(node);
        await second.SubscribeAsync(Channel, null, log).AsTask().WaitAsync(s_timeout);
        await Task.Delay(1500);
        Assert.Equal(["subscribe " + Channel], broker.Calls);

        Assert.True(second.Unsubscribe(Channel));
        await WaitUntilAsync(() => broker.Calls.Count == 2, "the unsubscribe after the linger");
        Assert.Equal(["subscribe " + Channel, "unsubscribe " + Channel], broker.Calls);
        Assert.False(node.IsFollowing(Channel));
    }

    [Fact]
    public async Task Over_a_lossy_duplicating_reordering_backplane_every_node_delivers_every_offset_once_in_order()
    {
        var backplane = new MemoryBackplane(seed: 7) { DropRate = 0.05, DuplicateRate = 0.05, ReorderRate = 0.05 };
        _owned.Add(backplane);
        var transports = new List<TestTransport>();
        for (var n = 0; n < 3; n++)
        {
            var (node, _) = NewNode(new SharedLog(backplane.Log), backplane.CreateBroker(), new NodeOptions { TopCheckInterval = TimeSpan.FromMilliseconds(200) });
            for (var s = 0; s < 2; s++)
            {
                var transport = new TestTransport();
                transports.Add(transport);
                await NewSession(node, transport).SubscribeAsync(Channel, null, backplane.Log).AsTask().WaitAsync(s_timeout);
            }
        }

        for (var i = 1; i <= 1000; i++)
            await AppendAsync(backplane.Log, i);

        foreach (var transport in transports)
        {
            await transport.WaitForMessagesAsync(1000);
            Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), transport.Offsets(Channel));
        }

        Assert.True(backplane.Dropped > 0 && backplane.Duplicated > 0 && backplane.Reordered > 0, "the faults happened");
    }

    [Fact]
    public async Task A_broker_subscribe_that_hangs_fails_the_follow_after_the_timeout_and_the_next_reader_follows_again()
    {
        var log = new MemoryChannelLog();
        var broker = new HangingBroker();
        var (node, _) = NewNode(log, broker, new NodeOptions { FollowTimeout = TimeSpan.FromMilliseconds(300) });
        IChannelInterest interest = node;

        var first = interest.Acquire(Channel);
        var failure = await Assert.ThrowsAsync<EngineUnavailableException>(() => first.WaitAsync(s_timeout));
        Assert.Contains("Herald:Node:FollowTimeout", failure.Message, StringComparison.Ordinal);
        Assert.False(node.IsFollowing(Channel));

        broker.Open.TrySetResult();
        interest.Release(Channel);
        await interest.Acquire(Channel).WaitAsync(s_timeout);
        await WaitUntilAsync(() => node.IsFollowing(Channel), "the second follow");
        Assert.Equal(2, broker.Subscribes);
    }

    [Fact]
    public void The_follow_timeout_is_checked_at_its_bounds()
    {
        Assert.Empty(new NodeOptions { FollowTimeout = TimeSpan.FromMilliseconds(100) }.Validate());
        Assert.Empty(new NodeOptions { FollowTimeout = TimeSpan.FromMinutes(5) }.Validate());
        Assert.Equal(["Herald:Node:FollowTimeout must be from 100 ms to 5 minutes."], new NodeOptions { FollowTimeout = TimeSpan.FromMilliseconds(99) }.Validate());
        Assert.Equal(["Herald:Node:FollowTimeout must be from 100 ms to 5 minutes."], new NodeOptions { FollowTimeout = TimeSpan.FromMinutes(5) + TimeSpan.FromTicks(1) }.Validate());
    }

    private (Node Node, PollWaiters Polls) NewNode(IChannelLog log, IBroker broker, NodeOptions? options = null)
    {
        var polls = new PollWaiters();
        var node = new Node(log, broker, new ChannelHub(), polls, options ?? new NodeOptions { SubscriptionLinger = TimeSpan.Zero });
        _owned.Add(node);
        return (node, polls);
    }

    private Session NewSession(Node node, TestTransport? transport = null)
    {
        var session = new Session(transport ?? new TestTransport(), node.Hub);
        _owned.Add(session);
        return session;
    }

    private static async Task<Publication> AppendAsync(MemoryChannelLog log, int n) =>
        (await log.AppendAsync(new AppendRequest(Channel, Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"), s_roomy)).AsTask().WaitAsync(s_timeout)).Publication;

    private static async Task WaitUntilAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>A broker whose subscribes wait until <see cref="Open"/> completes (a subscribe lost in a reconnect).</summary>
    private sealed class HangingBroker : IBroker
    {
        private int _subscribes;

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Subscribes => Volatile.Read(ref _subscribes);

        public bool MayLoseMessages => true;

        public void Start(IBrokerHandler handler)
        {
        }

        public async ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _subscribes);
            await Open.Task.WaitAsync(cancellationToken);
        }

        public ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A broker the test drives: it delivers exactly what the test hands it, and records subscribes.</summary>
    private sealed class ScriptedBroker(ConcurrentQueue<string> calls) : IBroker
    {
        private readonly List<string> _own = [];
        private IBrokerHandler? _handler;

        public bool MayLoseMessages { get; init; }

        public IReadOnlyList<string> Calls
        {
            get
            {
                lock (_own)
                    return [.. _own];
            }
        }

        public void Start(IBrokerHandler handler) => _handler = handler;

        public ValueTask SubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            Record("subscribe " + channel);
            return ValueTask.CompletedTask;
        }

        public ValueTask UnsubscribeAsync(string channel, CancellationToken cancellationToken = default)
        {
            Record("unsubscribe " + channel);
            return ValueTask.CompletedTask;
        }

        public ValueTask PublishEventAsync(ChannelEvent channelEvent, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public void Deliver(Publication publication) => _handler!.OnPublication(publication);

        public void Reconnected() => _handler!.OnReconnected();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private void Record(string call)
        {
            calls.Enqueue(call);
            lock (_own)
                _own.Add(call);
        }
    }

    /// <summary>The memory log, recording the top reads in the same list as the broker's subscribes.</summary>
    private sealed class RecordingLog(IChannelLog inner, ConcurrentQueue<string> calls) : IChannelLog
    {
        public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) => inner.AppendAsync(request, cancellationToken);

        public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default) => inner.ReadAsync(channel, request, cancellationToken);

        public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
        {
            calls.Enqueue("state " + channel);
            return inner.GetStateAsync(channel, cancellationToken);
        }

        public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default) => inner.RemoveAsync(channel, cancellationToken);

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
