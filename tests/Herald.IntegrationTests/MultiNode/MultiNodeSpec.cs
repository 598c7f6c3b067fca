using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.LongPoll;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.MultiNode;

/// <summary>
/// Three Herald nodes (real Kestrel each) sharing one engine: subscribers on every node on every
/// transport, publishes on random nodes. What one node commits, every subscriber on every node
/// receives once and in order, and a client may resume on another node than the one it left. Run
/// over the in-memory backplane (which can also lose and repeat messages) and over a real Redis.
/// </summary>
public abstract class MultiNodeSpec : IAsyncLifetime
{
    protected static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private static readonly string[] s_transports = ["ws", "sse", "stream", "longpoll"];

    private readonly List<TestServer> _nodes = [];
    private readonly List<ClusterSubscriber> _subscribers = [];

    /// <summary>The store name and engine of every node; all nodes share what the engine shares.</summary>
    protected abstract Task<(string Store, Dictionary<string, string?> Settings, Action<IHeraldBuilder>? Engine)> ClusterAsync();

    public async Task InitializeAsync()
    {
        var (store, settings, engine) = await ClusterAsync();
        // Quick repair of a message a broker lost with nothing after it.
        settings["Herald:Node:TopCheckInterval"] = "00:00:00.300";
        settings["Herald:Transports:MaxHeldPollsPerIp"] = "10000";
        for (var i = 0; i < 3; i++)
            _nodes.Add(await TestServer.StartAsync(store, settings, engine: engine));
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var subscriber in _subscribers)
            await subscriber.DisposeAsync();
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    [Fact]
    public async Task Every_subscriber_on_every_node_and_transport_gets_every_publication_once_in_order()
    {
        string[] channels = ["chat:a", "chat:b", "chat:c"];
        await SubscribeEverywhereAsync(channels);

        var published = await PublishOnRandomNodesAsync(channels, perChannel: 100);

        await AssertEveryoneGotExactlyAsync(published);
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

    protected IReadOnlyList<TestServer> Nodes => _nodes;

    protected async Task SubscribeEverywhereAsync(string[] channels)
    {
        foreach (var node in _nodes)
        {
            foreach (var transport in s_transports)
                _subscribers.Add(await ClusterSubscriber.StartAsync(node, transport, channels));
        }
    }

    protected async Task<Dictionary<string, int>> PublishOnRandomNodesAsync(string[] channels, int perChannel)
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

    protected async Task AssertEveryoneGotExactlyAsync(Dictionary<string, int> published)
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
}
