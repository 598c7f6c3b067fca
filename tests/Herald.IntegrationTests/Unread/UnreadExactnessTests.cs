using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Unread;

/// <summary>
/// Unread counts under concurrency: writers publish (some types count, some do not) while readers
/// move their markers from two devices each (HTTP and WebSocket); every count must equal the one
/// taken from the history itself.
/// </summary>
public sealed class UnreadExactnessTests
{
    private const string Channel = "typed:busy";

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:typed:Publish"] = "Authenticated",
        ["Herald:Namespaces:typed:UnreadTypes:0"] = "message",
        ["Herald:Unread:SyncInterval"] = "00:00:00",
    };

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task Counts_match_the_history_after_concurrent_writers_and_markers_on_several_devices(string store)
    {
        await using var server = await TestServer.StartAsync(store, Settings());
        await CheckAsync([server]);
    }

    /// <summary>Two nodes on one Redis: writers and each user's two devices spread over both; every node answers the same exact counts.</summary>
    [Fact]
    public async Task On_two_redis_nodes_counts_match_the_history_whichever_node_answers()
    {
        await using var redis = await Herald.Testing.RedisServer.StartAsync();
        var settings = Settings();
        settings["Herald:Redis:Configuration"] = redis.Configuration;
        await using var a = await TestServer.StartAsync("redis", settings);
        await using var b = await TestServer.StartAsync("redis", settings);
        await CheckAsync([a, b]);
    }

    private static async Task CheckAsync(TestServer[] nodes)
    {
        TestServer Node(int i) => nodes[i % nodes.Length];

        string[] writers = ["w1", "w2", "w3", "w4"];
        string[] readers = ["r1", "r2", "r3"];
        var marked = new ConcurrentDictionary<string, long>();
        using var writing = new CancellationTokenSource();

        var writes = writers.Select((writer, w) => Task.Run(async () =>
        {
            using var client = Node(w).CreateClient(Tokens.Mint(writer));
            for (var i = 0; i < 40; i++)
            {
                var type = i % 3 == 2 ? "other" : "message";
                using var response = await client.PublishAsync(Channel, $$"""{"data":{"i":{{i}}},"type":"{{type}}"}""");
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }
        })).ToList();

        var marks = readers.SelectMany((reader, r) => new[] { MarkOverHttpAsync(Node(r), reader, marked, writes), MarkOverWebSocketAsync(Node(r + 1), reader, marked, writes) }).ToList();
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromMinutes(3));
        await Task.WhenAll(marks).WaitAsync(TimeSpan.FromMinutes(3));

        using var serverClient = Node(0).CreateClient();
        var history = await serverClient.ReadAllAsync(Channel);
        Assert.Equal(160, history.Count);
        long CountAfter(long offset) => history.Count(p => p.GetProperty("offset").GetInt64() > offset && p.GetProperty("msgType").GetString() == "message");

        foreach (var (user, u) in readers.Concat(writers).Select((user, u) => (user, u)))
        {
            using var client = Node(u).CreateClient(Tokens.Mint(user));
            using var response = await client.GetAsync(new Uri($"v1/me/unread?channels={Channel}", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            var state = (await response.ReadJsonAsync()).GetProperty("channels")[0];
            var read = state.TryGetProperty("read", out var marker) ? marker.GetProperty("offset").GetInt64() : 0;
            if (marked.TryGetValue(user, out var highest))
                Assert.Equal(highest, read);
            Assert.Equal(CountAfter(read), state.GetProperty("unread").GetInt64());
            Assert.Equal(history.Count(p => p.GetProperty("msgType").GetString() == "message"), state.GetProperty("n").GetInt64());
        }

        // A writer's marker is its own newest message (its 'other' publications do not move it).
        // (On the node that took their publishes: another node sees a publisher's own marker a store round trip later.)
        foreach (var (writer, w) in writers.Select((writer, w) => (writer, w)))
        {
            using var client = Node(w).CreateClient(Tokens.Mint(writer));
            using var response = await client.GetAsync(new Uri($"v1/me/unread?channels={Channel}", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            var read = (await response.ReadJsonAsync()).GetProperty("channels")[0].GetProperty("read").GetProperty("offset").GetInt64();
            var newestOwn = history.Where(p => p.GetProperty("from").GetString() == writer && p.GetProperty("msgType").GetString() == "message").Max(p => p.GetProperty("offset").GetInt64());
            Assert.Equal(newestOwn, read);
        }
    }

    /// <summary>One device: marks random offsets up to the top it sees, over HTTP, while the writers write (and a few after).</summary>
    private static async Task MarkOverHttpAsync(TestServer server, string user, ConcurrentDictionary<string, long> marked, List<Task> writes)
    {
        using var client = server.CreateClient(Tokens.Mint(user));
        var random = new Random(user.GetHashCode(StringComparison.Ordinal));
        for (var round = 0; round < 60 && (round < 50 || !writes.All(w => w.IsCompleted)); round++)
        {
            var top = (await client.HistoryAsync(Channel, "?limit=1&reverse=true")).GetProperty("top").GetInt64();
            var offset = random.NextInt64(0, top + 1);
            using var request = new HttpRequestMessage(HttpMethod.Put, $"v1/channels/{Channel}/read") { Content = new StringContent($$"""{"offset":{{offset}}}""", Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            marked.AddOrUpdate(user, offset, (_, old) => Math.Max(old, offset));
        }
    }

    /// <summary>Another device of the same user: the WebSocket <c>read</c> op.</summary>
    private static async Task MarkOverWebSocketAsync(TestServer server, string user, ConcurrentDictionary<string, long> marked, List<Task> writes)
    {
        await using var socket = await WsClient.ConnectAsync(server, bearer: Tokens.Mint(user));
        var random = new Random(user.GetHashCode(StringComparison.Ordinal) + 1);
        for (var round = 0; round < 60 && (round < 50 || !writes.All(w => w.IsCompleted)); round++)
        {
            var history = await socket.RequestAsync($$"""{"id":{{round * 2}},"op":"history","channel":"{{Channel}}","limit":1,"reverse":true}""");
            var top = history.GetProperty("top").GetInt64();
            var offset = random.NextInt64(0, top + 1);
            var reply = await socket.RequestAsync($$"""{"id":{{(round * 2) + 1}},"op":"read","channel":"{{Channel}}","offset":{{offset}}}""");
            Assert.True(reply.GetProperty("type").GetString() == "read", reply.GetRawText());
            marked.AddOrUpdate(user, offset, (_, old) => Math.Max(old, offset));
            // Forward only: the stored marker is never below what this device set.
            // (No marker yet only while the channel is empty: offset 0.)
            var stored = reply.GetProperty("state").TryGetProperty("read", out var read) ? read.GetProperty("offset").GetInt64() : 0;
            Assert.True(stored >= offset, reply.GetRawText());
        }
    }
}
