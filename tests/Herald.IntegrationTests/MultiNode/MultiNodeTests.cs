using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Engine.Memory;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.LongPoll;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.MultiNode;

/// <summary>
/// Three Herald nodes (real Kestrel each) over one in-memory backplane: subscribers on every node
/// on every transport, publishes on random nodes. What one node commits, every subscriber on
/// every node receives once and in order — also when the backplane loses and repeats messages —
/// and a client may resume on another node than the one it left.
/// </summary>
public sealed class MultiNodeTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private static readonly string[] s_transports = ["ws", "sse", "stream", "longpoll"];

    private readonly MemoryBackplane _backplane = new(seed: 11);
    private readonly List<TestServer> _nodes = [];
    private readonly List<ClusterSubscriber> _subscribers = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(await TestServer.StartAsync(
                "memory",
                new Dictionary<string, string?>
                {
                    // Quick repair of a message the backplane lost with nothing after it.
                    ["Herald:Node:TopCheckInterval"] = "00:00:00.300",
                    ["Herald:Transports:MaxHeldPollsPerIp"] = "10000",
                },
                engine: b => b.UseMemoryBackplane(_backplane)));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var subscriber in _subscribers)
            await subscriber.DisposeAsync();
        foreach (var node in _nodes)
            await node.DisposeAsync();
        await _backplane.DisposeAsync();
    }

    [Fact]
    public async Task Every_subscriber_on_every_node_and_transport_gets_every_publication_once_in_order()
    {
        string[] channels = ["chat:a", "chat:b", "chat:c"];
        await SubscribeEverywhereAsync(channels);

        var published = await PublishOnRandomNodesAsync(channels, perChannel: 100);

        await AssertEveryoneGotExactlyAsync(published);
        Assert.Equal(0, _backplane.Dropped);
    }

    [Fact]
    public async Task A_backplane_that_loses_and_repeats_one_message_in_a_hundred_loses_and_repeats_nothing_for_the_subscribers()
    {
        string[] channels = ["chat:a", "chat:b"];
        await SubscribeEverywhereAsync(channels);
        _backplane.DropRate = 0.01;
        _backplane.DuplicateRate = 0.01;
        _backplane.ReorderRate = 0.01;

        var published = await PublishOnRandomNodesAsync(channels, perChannel: 300);

        await AssertEveryoneGotExactlyAsync(published);
        Assert.True(_backplane.Dropped > 0 && _backplane.Duplicated > 0, $"faults: {_backplane.Dropped} dropped, {_backplane.Duplicated} duplicated");
    }

    [Fact]
    public async Task A_subscriber_that_resumes_on_another_node_gets_exactly_what_it_missed()
    {
        const string channel = "chat:resume";
        using var a = _nodes[0].CreateClient();
        using var b = _nodes[1].CreateClient();
        using var c = _nodes[2].CreateClient();

        string cursor;
        await using (var first = await PushClient.ConnectAsync(a, "sse", [channel]))
        {
            await first.ExpectAsync("subscribed");
            for (var i = 1; i <= 5; i++)
                await c.PublishDataAsync(channel, $"{i}");
            var seen = await first.ReadPublicationsAsync(5);
            Assert.Equal([1L, 2, 3, 4, 5], seen.Select(p => p.Offset));
            cursor = seen[^1].Cursor!;
        }

        for (var i = 6; i <= 9; i++)
            await c.PublishDataAsync(channel, $"{i}");

        await using var resumed = await PushClient.ConnectAsync(b, "sse", [channel], cursor);
        var subscribed = await resumed.ExpectAsync("subscribed");
        Assert.True(subscribed.Entry(channel).GetProperty("recovered").GetBoolean());
        await a.PublishDataAsync(channel, "10");
        var missedThenLive = await resumed.ReadPublicationsAsync(5);
        Assert.Equal([6L, 7, 8, 9, 10], missedThenLive.Select(p => p.Offset));
    }

    [Fact]
    public async Task A_long_poll_held_on_one_node_wakes_on_a_publish_to_another()
    {
        const string channel = "chat:poll";
        using var a = _nodes[0].CreateClient();
        using var b = _nodes[1].CreateClient();
        var now = await b.PollAsync(channel, wait: 0);

        var held = b.PollAsync(channel, now.Cursor, wait: 50);
        await _nodes[1].WaitUntilWaitingAsync(1);
        await a.PublishDataAsync(channel, "{\"text\":\"from a\"}");

        var answer = await held.WaitAsync(s_timeout);
        var publication = Assert.Single(answer.Publications);
        Assert.Equal(1, publication.GetProperty("offset").GetInt64());
        Assert.Equal("from a", publication.GetProperty("data").GetProperty("text").GetString());
    }

    private async Task SubscribeEverywhereAsync(string[] channels)
    {
        foreach (var node in _nodes)
        {
            foreach (var transport in s_transports)
                _subscribers.Add(await ClusterSubscriber.StartAsync(node, transport, channels));
        }
    }

    private async Task<Dictionary<string, int>> PublishOnRandomNodesAsync(string[] channels, int perChannel)
    {
        var random = new Random(5);
        var clients = _nodes.Select(n => n.CreateClient()).ToArray();
        try
        {
            var counts = channels.ToDictionary(c => c, _ => 0);
            for (var i = 0; i < perChannel * channels.Length; i++)
            {
                var channel = channels[i % channels.Length];
                var client = clients[random.Next(clients.Length)];
                await client.PublishDataAsync(channel, $"{{\"i\":{i}}}");
                counts[channel]++;
            }

            return counts;
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }
    }

    private async Task AssertEveryoneGotExactlyAsync(Dictionary<string, int> published)
    {
        foreach (var subscriber in _subscribers)
            await subscriber.WaitForAsync(published, s_timeout);

        var deliveries = 0;
        foreach (var subscriber in _subscribers)
        {
            foreach (var (channel, count) in published)
            {
                var offsets = subscriber.OffsetsOf(channel);
                Assert.True(offsets.SequenceEqual(Enumerable.Range(1, count).Select(i => (long)i)),
                    $"{subscriber.Name} on {channel}: {offsets.Count} offsets, gaps or duplicates: {string.Join(",", offsets.Take(20))}…");
                deliveries += offsets.Count;
            }
        }

        Assert.Equal(_subscribers.Count * published.Values.Sum(), deliveries);
    }

    /// <summary>One client on one node on one transport, recording every publication it receives.</summary>
    private sealed class ClusterSubscriber : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, List<long>> _offsets = new(StringComparer.Ordinal);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<IAsyncDisposable> _resources = [];
        private Task _running = Task.CompletedTask;

        private ClusterSubscriber(string name) => Name = name;

        public string Name { get; }

        public static async Task<ClusterSubscriber> StartAsync(TestServer node, string transport, string[] channels)
        {
            var subscriber = new ClusterSubscriber($"{transport}@{node.BaseAddress.Port}");
            await subscriber.ConnectAsync(node, transport, channels);
            return subscriber;
        }

        public List<long> OffsetsOf(string channel)
        {
            var list = _offsets.GetOrAdd(channel, _ => []);
            lock (list)
                return [.. list];
        }

        public async Task WaitForAsync(Dictionary<string, int> expected, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (expected.Any(e => OffsetsOf(e.Key).Count < e.Value))
            {
                if (_running.IsFaulted)
                    await _running;
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"{Name}: timed out with {string.Join(", ", expected.Select(e => $"{e.Key} {OffsetsOf(e.Key).Count}/{e.Value}"))}.");
                await Task.Delay(50);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            foreach (var resource in _resources)
                await resource.DisposeAsync();
            try
            {
                await _running.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or HttpRequestException or IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
            {
                // The loop ends by being cut off.
            }

            _stop.Dispose();
        }

        private void Record(string channel, long offset)
        {
            var list = _offsets.GetOrAdd(channel, _ => []);
            lock (list)
                list.Add(offset);
        }

        private async Task ConnectAsync(TestServer node, string transport, string[] channels)
        {
            switch (transport)
            {
                case "ws":
                    var ws = await WsClient.ConnectAsync(node);
                    _resources.Add(ws);
                    foreach (var channel in channels)
                    {
                        var reply = await ws.RequestAsync($$"""{"id":"{{channel}}","op":"subscribe","channel":"{{channel}}"}""");
                        Assert.Equal("subscribed", reply.GetProperty("type").GetString());
                    }

                    _running = Task.Run(async () =>
                    {
                        while (!_stop.IsCancellationRequested)
                            Receive(await ws.ReceiveAsync());
                    });
                    break;
                case "sse" or "stream":
                    var client = node.CreateClient();
                    var push = await PushClient.ConnectAsync(client, transport, channels);
                    _resources.Add(push);
                    for (var i = 0; i < channels.Length; i++)
                        await push.ExpectAsync("subscribed");
                    _running = Task.Run(async () =>
                    {
                        using var owned = client;
                        while (!_stop.IsCancellationRequested && await push.ReadAsync() is { } message)
                        {
                            if (message.Type == "publication")
                                Record(message.Channel, message.Offset);
                        }
                    });
                    break;
                default:
                    var poller = node.CreateClient();
                    var cursor = (await poller.PollAsync(channels, wait: 0)).Cursor;
                    _running = Task.Run(async () =>
                    {
                        using var owned = poller;
                        while (!_stop.IsCancellationRequested)
                        {
                            var answer = await poller.PollAsync(channels, cursor, wait: 20, cancellationToken: _stop.Token);
                            foreach (var publication in answer.Publications)
                                Record(publication.GetProperty("channel").GetString()!, publication.GetProperty("offset").GetInt64());
                            cursor = answer.Cursor;
                        }
                    });
                    break;
            }
        }

        private void Receive(JsonElement message)
        {
            if (message.GetProperty("type").GetString() == "publication")
                Record(message.GetProperty("channel").GetString()!, message.GetProperty("offset").GetInt64());
        }
    }
}
