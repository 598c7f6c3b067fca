using System.Text.Json;
using Herald.Channels;
using Herald.Engine;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Actions;

/// <summary>
/// Edits, deletes, reactions and thread summaries are publications of the log, so a client that
/// resumes after missing some folds to the same messages as one that never left — and as the
/// server's <c>view=latest</c>.
/// </summary>
public sealed class ResumeLatestViewTests
{
    private const string Channel = "chat:resume";

    [Theory]
    [InlineData("sqlite")]
    [InlineData("memory")]
    public async Task Resume_after_edits_deletes_and_reactions_gives_the_same_latest_view_as_a_client_that_never_disconnected(string store)
    {
        await using var server = await TestServer.StartAsync(store, new Dictionary<string, string?>
        {
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:Namespaces:chat:Publish"] = "Authenticated",
        });
        using var alice = server.CreateClient(Tokens.Mint("alice"));
        using var bob = server.CreateClient(Tokens.Mint("bob"));
        using var carol = server.CreateClient(Tokens.Mint("carol"));
        using var key = server.CreateClient();

        await using var steady = await SubscriberAsync(server, since: null);
        var away = await SubscriberAsync(server, since: null);

        // Both connected.
        var hello = await alice.PostAsync(Channel, """{"t":"helo"}""");
        var question = await bob.PostAsync(Channel, """{"t":"anyone?"}""");
        await bob.ReactAsync(Channel, hello, "+1");
        await alice.EditAsync(Channel, hello, """{"t":"hello"}""");
        var topic = await carol.PostAsync(Channel, """{"t":"a topic"}""");
        var thread = ThreadChannel.Name(Channel, topic);
        var reply = await bob.PostAsync(thread, """{"t":"first reply"}""");
        await WaitForSummaryAsync(key, reply);
        var before = await away.ReceiveThroughAsync((await key.HistoryAsync(Channel)).GetProperty("top").GetInt64());
        var position = before[^1];
        await away.Socket.DisposeAsync();

        // Away: every kind of action, on messages the client has and on one it has not.
        await bob.DeleteAsync(Channel, question);
        await carol.ReactAsync(Channel, hello, "heart");
        await alice.ReactAsync(Channel, hello, "+1");
        await bob.UnreactAsync(Channel, hello, "+1");
        await alice.EditAsync(Channel, hello, """{"t":"hello all"}""");
        var late = await carol.PostAsync(Channel, """{"t":"late"}""");
        await alice.ReactAsync(Channel, late, "wave");
        await carol.EditAsync(Channel, late, """{"t":"late, sorry"}""");
        for (var i = 0; i < 3; i++)
            reply = await alice.PostAsync(thread, $$"""{"t":"reply {{i}}"}""");
        await carol.DeleteAsync(Channel, topic);
        await WaitForSummaryAsync(key, reply);

        // Back, from where it was.
        var resumed = await SubscriberAsync(server, since: position);
        await using var back = resumed;

        // And one more while both are there.
        await carol.ReactAsync(Channel, late, "wave");

        var latest = await key.LatestAsync(Channel, "limit=1000");
        var top = latest.GetProperty("top").GetInt64();
        var steadyReceived = await steady.ReceiveThroughAsync(top);
        var awayReceived = before.Concat(await resumed.ReceiveThroughAsync(top)).ToList();

        Assert.Equal(Enumerable.Range(1, (int)top).Select(o => (long)o), awayReceived.Select(p => p.Offset));
        var policy = new ChannelPolicy();
        var expected = Actions.PublicationsText(latest);
        Assert.Equal(expected, Actions.Encode(steadyReceived, policy));
        Assert.Equal(expected, Actions.Encode(awayReceived, policy));

        // What the three agree on is the whole story, not an empty page.
        var greeting = Actions.Message(latest, hello);
        Assert.Equal("hello all", greeting.GetProperty("data").GetProperty("t").GetString());
        Assert.Equal(3, greeting.GetProperty("version").GetInt32());
        Assert.Equal("+1=1[alice] heart=1[carol]", Actions.Reactions(greeting)); // "+1" never emptied: it keeps its place.
        Assert.True(Actions.Message(latest, question).GetProperty("deleted").GetBoolean());
        Assert.Equal("wave=2[alice,carol]", Actions.Reactions(Actions.Message(latest, late)));
        var root = Actions.Message(latest, topic);
        Assert.True(root.GetProperty("deleted").GetBoolean());
        Assert.Equal(reply, root.GetProperty("thread").GetProperty("last").GetProperty("offset").GetInt64());
    }

    private static async Task WaitForSummaryAsync(HttpClient client, long replyOffset) =>
        await client.WaitForHistoryAsync(Channel, ps => ps.Any(p =>
            p.TryGetProperty("msgType", out var type) && type.GetString() == "herald.thread"
            && p.GetProperty("data").GetProperty("last").GetProperty("offset").GetInt64() == replyOffset), $"the thread summary of reply {replyOffset}");

    private static async Task<Subscriber> SubscriberAsync(TestServer server, Publication? since)
    {
        var socket = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("dave"));
        var request = since is null
            ? $$"""{"id":1,"op":"subscribe","channel":"{{Channel}}"}"""
            : $$$"""{"id":1,"op":"subscribe","channel":"{{{Channel}}}","since":{"epoch":"{{{since.Epoch}}}","offset":{{{since.Offset}}}}}""";
        var reply = await socket.RequestAsync(request);
        Assert.Equal("subscribed", reply.GetProperty("type").GetString());
        Assert.True(reply.GetProperty("recovered").GetBoolean());
        return new Subscriber(socket);
    }

    /// <summary>A WebSocket subscriber of <see cref="Channel"/> keeping every publication it receives.</summary>
    private sealed class Subscriber(WsClient socket) : IAsyncDisposable
    {
        private readonly List<Publication> received = [];

        public WsClient Socket { get; } = socket;

        /// <summary>Receives until the publication at <paramref name="top"/>; returns all received so far.</summary>
        public async Task<List<Publication>> ReceiveThroughAsync(long top)
        {
            while (received.Count == 0 || received[^1].Offset < top)
            {
                var message = await Socket.ReceiveAsync();
                if (message.GetProperty("type").GetString() == "publication")
                    received.Add(Actions.ToPublication(message));
            }

            return received;
        }

        public ValueTask DisposeAsync() => Socket.DisposeAsync();
    }
}
