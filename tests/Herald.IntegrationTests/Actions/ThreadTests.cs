using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Actions;

/// <summary>Threads: <c>{parent}={rootOffset}</c> channels, their access, their root, and their summary on the parent.</summary>
public sealed class ThreadTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "sqlite", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Publish"] = "Authenticated",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private HttpClient As(string user) => server.CreateClient(Tokens.Mint(user));

    private static bool IsSummary(JsonElement p) => p.TryGetProperty("msgType", out var type) && type.GetString() == "herald.thread";

    [Fact]
    public async Task A_thread_takes_messages_only_when_its_root_is_a_message_of_its_parent()
    {
        using var alice = As("alice");
        Assert.Contains("no message there", await alice.RefusedAsync("chat:roots=1", "1", null, HttpStatusCode.NotFound, "message_not_found"), StringComparison.Ordinal);

        await alice.PostAsync("chat:roots", """{"t":"root"}""");
        var reaction = await alice.ReactAsync("chat:roots", 1, "+1");
        Assert.Contains("herald.react", await alice.RefusedAsync($"chat:roots={reaction}", "1", null, HttpStatusCode.NotFound, "message_not_found"), StringComparison.Ordinal);
        await alice.RefusedAsync("chat:roots=3", "1", null, HttpStatusCode.NotFound, "message_not_found");
        Assert.Equal(1, await alice.PostAsync("chat:roots=1", """{"t":"reply"}"""));
        Assert.Equal(2, await alice.PostAsync("chat:roots=1", """{"t":"again"}"""));

        Assert.Contains("do not nest", await alice.RefusedAsync("chat:roots=1=1", "1", null, HttpStatusCode.BadRequest, "invalid_channel"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_threads_access_is_its_parents()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        using var carol = As("carol");
        await alice.PostAsync("dm:alice~bob", """{"t":"hi bob"}""");
        await bob.PostAsync("dm:alice~bob=1", """{"t":"hi alice"}""");

        await carol.RefusedAsync("dm:alice~bob=1", "1", null, HttpStatusCode.Forbidden, "forbidden");
        using (var history = await carol.GetAsync(new Uri("v1/channels/dm:alice~bob=1/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout))
            Assert.Equal(HttpStatusCode.Forbidden, history.StatusCode);
        Assert.Equal(1, (await alice.HistoryAsync("dm:alice~bob=1")).GetProperty("top").GetInt64());

        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("carol"));
        Assert.Equal("forbidden", (await ws.RequestAsync("""{"id":1,"op":"subscribe","channel":"dm:alice~bob=1"}""")).GetProperty("code").GetString());
        var renamed = await ws.RequestAsync("""{"id":2,"op":"subscribe","channel":"dm:bob~alice=1"}""");
        Assert.Equal("non_canonical_channel", renamed.GetProperty("code").GetString());
        Assert.Equal("dm:alice~bob=1", renamed.GetProperty("canonical").GetString());
    }

    [Fact]
    public async Task Replies_are_summarised_on_the_parent_at_most_once_a_second_ending_with_the_newest()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        using var key = server.CreateClient();
        await alice.PostAsync("chat:lobby", """{"t":"root"}""");
        await alice.PostAsync("chat:lobby", """{"t":"other"}""");

        var clock = Stopwatch.StartNew();
        long last = 0;
        for (var i = 1; i <= 12; i++)
            last = await bob.PostAsync("chat:lobby=1", $$"""{"n":{{i}}}""");
        await alice.ReactAsync("chat:lobby=1", last, "+1"); // Not a reply: no summary of its own.

        var history = await key.WaitForHistoryAsync("chat:lobby", ps => ps.Where(IsSummary).Any(p =>
            p.GetProperty("data").GetProperty("last").GetProperty("offset").GetInt64() == last), "the summary of the last reply");
        var elapsed = clock.Elapsed;

        var summaries = history.GetProperty("publications").EnumerateArray().Where(IsSummary).ToList();
        Assert.InRange(summaries.Count, 1, 2 + (int)elapsed.TotalSeconds);
        var newest = summaries[^1];
        Assert.False(newest.TryGetProperty("from", out _)); // Published by the server.
        var data = newest.GetProperty("data");
        Assert.Equal(1, data.GetProperty("ref").GetInt64());
        Assert.Equal(last, data.GetProperty("replies").GetInt64());
        Assert.Equal("bob", data.GetProperty("last").GetProperty("from").GetString());

        // The latest view folds the summary into the root, and summaries are not messages.
        var latest = await alice.LatestAsync("chat:lobby");
        Assert.Equal([1L, 2], latest.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetInt64()));
        var thread = Actions.Message(latest, 1).GetProperty("thread");
        Assert.Equal(last, thread.GetProperty("replies").GetInt64());
        Assert.Equal(last, thread.GetProperty("last").GetProperty("offset").GetInt64());
        Assert.False(thread.TryGetProperty("ref", out _));
        Assert.False(Actions.Message(latest, 2).TryGetProperty("thread", out _));
    }

    [Fact]
    public async Task Edits_and_reactions_inside_a_thread_fold_like_anywhere()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        await alice.PostAsync("chat:inner", """{"t":"root"}""");
        var reply = await bob.PostAsync("chat:inner=1", """{"t":"reply"}""");
        await bob.EditAsync("chat:inner=1", reply, """{"t":"reply!"}""");
        await alice.ReactAsync("chat:inner=1", reply, "+1");
        await alice.RefusedAsync("chat:inner=1", $$"""{"ref":{{reply}}}""", "herald.delete", HttpStatusCode.Forbidden, "not_author");

        var message = Actions.Message(await alice.LatestAsync("chat:inner=1"), reply);
        Assert.Equal("reply!", message.GetProperty("data").GetProperty("t").GetString());
        Assert.Equal(2, message.GetProperty("version").GetInt32());
        Assert.Equal("+1=1[alice]", Actions.Reactions(message));
    }
}
