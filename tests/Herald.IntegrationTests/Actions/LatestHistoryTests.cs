using System.Net;
using System.Net.Http.Headers;
using Herald.Channels;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Actions;

/// <summary><c>GET /v1/channels/{ch}/messages?view=latest</c> and the WebSocket <c>history</c> op's <c>view</c>.</summary>
public sealed class LatestHistoryTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "sqlite", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:chat:Publish"] = "Authenticated",
        ["Herald:Namespaces:few:Publish"] = "Authenticated",
        ["Herald:Namespaces:few:ReactionUsersListed"] = "2",
        ["Herald:Namespaces:one:Publish"] = "Authenticated",
        ["Herald:Namespaces:one:Reactions"] = "Unique",
        ["Herald:Namespaces:many:Publish"] = "Authenticated",
        ["Herald:Namespaces:many:Reactions"] = "Multiple",
        ["Herald:Namespaces:short:Publish"] = "Authenticated",
        ["Herald:Namespaces:short:HistorySize"] = "4",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private HttpClient As(string user) => server.CreateClient(Tokens.Mint(user));

    [Fact]
    public async Task Latest_folds_edits_deletes_and_reactions_into_the_original_offsets_and_raw_stays_the_log()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        var hello = await alice.PostAsync("chat:fold", """{"t":"helo"}""");
        var bye = await bob.PostAsync("chat:fold", """{"t":"bye"}""");
        await alice.EditAsync("chat:fold", hello, """{"t":"hello"}""");
        await bob.ReactAsync("chat:fold", hello, "+1");
        await alice.ReactAsync("chat:fold", hello, "+1");
        await bob.ReactAsync("chat:fold", hello, "+1");
        await bob.ReactAsync("chat:fold", hello, "heart");
        await bob.UnreactAsync("chat:fold", hello, "heart");
        await bob.DeleteAsync("chat:fold", bye);

        var latest = await alice.LatestAsync("chat:fold");
        Assert.Equal([hello, bye], latest.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetInt64()));
        Assert.Equal(9, latest.GetProperty("top").GetInt64());
        var first = Actions.Message(latest, hello);
        Assert.Equal("hello", first.GetProperty("data").GetProperty("t").GetString());
        Assert.Equal(2, first.GetProperty("version").GetInt32());
        Assert.True(first.TryGetProperty("editedAt", out _));
        Assert.False(first.TryGetProperty("deleted", out _));
        Assert.Equal("alice", first.GetProperty("from").GetString());
        Assert.Equal("+1=2[bob,alice]", Actions.Reactions(first));
        var second = Actions.Message(latest, bye);
        Assert.True(second.GetProperty("deleted").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("data").ValueKind);
        Assert.Equal(1, second.GetProperty("version").GetInt32());

        // The raw view (the default) is the log, actions included.
        var raw = await alice.HistoryAsync("chat:fold", "?view=raw");
        Assert.Equal(9, raw.GetProperty("publications").GetArrayLength());
        Assert.Equal(Actions.PublicationsText(raw), Actions.PublicationsText(await alice.HistoryAsync("chat:fold")));
    }

    [Fact]
    public async Task Paging_counts_messages_and_sees_actions_anywhere_after_them()
    {
        using var alice = As("alice");
        for (var i = 1; i <= 6; i++)
        {
            await alice.PostAsync("chat:pages", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await alice.ReactAsync("chat:pages", 1, "r" + i); // Actions between the messages.
        }

        await alice.EditAsync("chat:pages", 3, "33");
        var messages = new long[] { 1, 3, 5, 7, 9, 11 };

        var forward = await alice.LatestAsync("chat:pages", "limit=2&after=1");
        Assert.Equal([3L, 5], Offsets(forward));
        Assert.Equal("33", Actions.Message(forward, 3).GetProperty("data").GetRawText());

        var newest = await alice.LatestAsync("chat:pages", "limit=2&reverse=true");
        Assert.Equal([11L, 9], Offsets(newest));
        var after = await alice.LatestAsync("chat:pages", "reverse=true&after=4");
        Assert.Equal([11L, 9, 7, 5], Offsets(after));
        var all = await alice.LatestAsync("chat:pages", "limit=1000");
        Assert.Equal(messages, Offsets(all));
        Assert.Equal(6, Actions.Message(all, 1).GetProperty("reactions").GetArrayLength());
        Assert.Empty(Offsets(await alice.LatestAsync("chat:pages", "after=11")));

        // The WebSocket history op answers the same members.
        await using var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var reply = await ws.RequestAsync("""{"id":1,"op":"history","channel":"chat:pages","view":"latest","limit":2,"reverse":true}""");
        Assert.Equal("history", reply.GetProperty("type").GetString());
        Assert.Equal(Actions.PublicationsText(newest), Actions.PublicationsText(reply));
    }

    [Fact]
    public async Task The_ETag_differs_between_views_and_each_answers_304_until_the_log_moves()
    {
        using var alice = As("alice");
        await alice.PostAsync("chat:etag", "1");
        using var raw = await alice.GetAsync(new Uri("v1/channels/chat:etag/messages", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        using var latest = await alice.GetAsync(new Uri("v1/channels/chat:etag/messages?view=latest", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.NotEqual(raw.Headers.ETag, latest.Headers.ETag);
        Assert.EndsWith("-latest\"", latest.Headers.ETag!.Tag, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(alice, "?view=latest", latest.Headers.ETag)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(alice, "?view=latest", raw.Headers.ETag!)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(alice, string.Empty, latest.Headers.ETag)).StatusCode);

        await alice.ReactAsync("chat:etag", 1, "+1");
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(alice, "?view=latest", latest.Headers.ETag)).StatusCode);
    }

    [Theory]
    [InlineData("view=folded")]
    [InlineData("view=LATEST")]
    public async Task An_unknown_view_is_400_invalid_query(string query)
    {
        using var alice = As("alice");
        using var response = await alice.GetAsync(new Uri("v1/channels/chat:views/messages?" + query, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_query", (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task ReactionUsersListed_names_that_many_users_and_counts_them_all()
    {
        var users = new[] { "u1", "u2", "u3" };
        using var alice = As("alice");
        await alice.PostAsync("few:a", "1");
        await alice.PostAsync("chat:few", "1");
        foreach (var user in users)
        {
            using var client = As(user);
            await client.ReactAsync("few:a", 1, "+1");
            await client.ReactAsync("chat:few", 1, "+1");
        }

        Assert.Equal("+1=3[u1,u2]", Actions.Reactions(Actions.Message(await alice.LatestAsync("few:a"), 1)));
        Assert.Equal("+1=3[u1,u2,u3]", Actions.Reactions(Actions.Message(await alice.LatestAsync("chat:few"), 1)));
    }

    [Fact]
    public async Task Unique_and_Multiple_namespaces_count_by_their_rule()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        foreach (var channel in new[] { "one:a", "many:a" })
        {
            await alice.PostAsync(channel, "1");
            await bob.ReactAsync(channel, 1, "+1");
            await bob.ReactAsync(channel, 1, "+1");
            await bob.ReactAsync(channel, 1, "heart");
        }

        Assert.Equal("heart=1[bob]", Actions.Reactions(Actions.Message(await alice.LatestAsync("one:a"), 1)));
        Assert.Equal("+1=2[bob] heart=1[bob]", Actions.Reactions(Actions.Message(await alice.LatestAsync("many:a"), 1)));
    }

    [Fact]
    public async Task Actions_whose_message_left_history_are_ignored_and_the_fold_sees_only_retained_history()
    {
        using var alice = As("alice");
        await alice.PostAsync("short:a", "1");
        await alice.PostAsync("short:a", "2");
        await alice.EditAsync("short:a", 1, "11");
        await alice.EditAsync("short:a", 2, "22");
        await alice.PostAsync("short:a", "5"); // HistorySize 4: offset 1 leaves, and with it the message 1.

        var latest = await alice.LatestAsync("short:a");
        Assert.Equal(2, latest.GetProperty("first").GetInt64());
        Assert.Equal([2L, 5], Offsets(latest));
        Assert.Equal("22", Actions.Message(latest, 2).GetProperty("data").GetRawText());

        await alice.PostAsync("short:a", "6");
        await alice.PostAsync("short:a", "7"); // The edit of 2 (offset 4) is gone too: 2 reads as first written.
        latest = await alice.LatestAsync("short:a");
        Assert.Equal([5L, 6, 7], Offsets(latest));
    }

    [Fact]
    public async Task A_client_side_fold_of_the_raw_history_equals_the_servers_latest_view()
    {
        using var alice = As("alice");
        using var bob = As("bob");
        await alice.PostAsync("chat:same", """{"t":"a"}""");
        await bob.PostAsync("chat:same", """{"t":"b"}""");
        await bob.ReactAsync("chat:same", 1, "+1");
        await alice.EditAsync("chat:same", 1, """{"t":"a2"}""");
        await alice.DeleteAsync("chat:same", 1);
        await alice.ReactAsync("chat:same", 2, "😀");

        var raw = await alice.HistoryAsync("chat:same");
        var fold = Actions.Encode(raw.GetProperty("publications").EnumerateArray().Select(Actions.ToPublication), new ChannelPolicy());
        Assert.Equal(fold, Actions.PublicationsText(await alice.LatestAsync("chat:same")));
    }

    private static List<long> Offsets(System.Text.Json.JsonElement history) =>
        [.. history.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetInt64())];

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string query, EntityTagHeaderValue etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "v1/channels/chat:etag/messages" + query);
        request.Headers.IfNoneMatch.Add(etag);
        return await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
    }
}
