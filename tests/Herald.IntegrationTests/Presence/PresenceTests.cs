using System.Net;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Presence;

/// <summary>Presence on one node: joins, leaves and updates as numbered diffs, the leave grace, resume, counts, the server API.</summary>
public sealed class PresenceTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:room:Presence"] = "List",
        ["Herald:Namespaces:room:PresenceLeaveGrace"] = "00:00:02",
        ["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00",
        ["Herald:Namespaces:grace:Presence"] = "List",
        ["Herald:Namespaces:grace:PresenceLeaveGrace"] = "00:00:05",
        ["Herald:Namespaces:grace:PresenceDiffInterval"] = "00:00:00",
        ["Herald:Namespaces:grace:Publish"] = "ServerOnly",
        ["Herald:Namespaces:short:Presence"] = "List",
        ["Herald:Namespaces:short:PresenceResumeDiffs"] = "2",
        ["Herald:Namespaces:short:PresenceDiffInterval"] = "00:00:00",
        ["Herald:Namespaces:lobby:Presence"] = "Count",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_list_subscriber_gets_a_snapshot_then_joins_and_leaves_as_contiguous_diffs()
    {
        const string channel = "room:a";
        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        var (state, members) = await alice.SubscribeAsync(channel, "list");
        Assert.Equal("list", state.GetProperty("mode").GetString());
        Assert.False(state.GetProperty("recovered").GetBoolean());
        Assert.Equal(["alice"], members);
        var seq = state.GetProperty("seq").GetInt64();

        await using var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        await bob.SubscribeAsync(channel, "enter");
        var join = await alice.ExpectAsync("presence");
        Assert.Equal(["bob"], join.Users("join"));
        Assert.Equal(seq, join.GetProperty("from").GetInt64());
        Assert.Equal(seq + 1, join.GetProperty("to").GetInt64());
        Assert.Equal(2, join.GetProperty("users").GetInt32());

        // An unsubscribe leaves at once, grace or not.
        Assert.Equal("unsubscribed", (await bob.RequestAsync($$"""{"id":2,"op":"unsubscribe","channel":"{{channel}}"}""")).GetProperty("type").GetString());
        var leave = await alice.ExpectAsync("presence");
        Assert.Equal(["bob"], leave.Users("leave"));
        Assert.Equal(seq + 1, leave.GetProperty("from").GetInt64());
        Assert.Equal(1, leave.GetProperty("users").GetInt32());
    }

    [Fact]
    public async Task A_dropped_connection_leaves_after_the_grace_and_a_reconnect_within_it_makes_no_diff()
    {
        const string channel = "grace:a";
        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        await alice.SubscribeAsync(channel, "list");

        var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        await bob.SubscribeAsync(channel, "enter");
        Assert.Equal(["bob"], (await alice.ExpectAsync("presence")).Users("join"));

        // Dropped without a close frame, back at once: within the 5 s grace, no leave/join pair.
        bob.Abort();
        await bob.DisposeAsync();
        await using var again = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob"));
        await again.SubscribeAsync(channel, "enter");

        // Past the grace of the first drop: still no diff, since bob came back.
        await Task.Delay(TimeSpan.FromSeconds(6));
        using var api = server.CreateClient();
        using (await api.PostAsync($"v1/channels/{channel}/messages", JsonContent("""{"data":"marker"}""")))
        {
        }

        var next = await alice.NextAsync();
        Assert.Equal("publication", next.GetProperty("type").GetString());

        // Dropped again and not back: one leave, after the grace.
        again.Abort();
        var leave = await alice.ExpectAsync("presence");
        Assert.Equal(["bob"], leave.Users("leave"));
    }

    [Fact]
    public async Task A_client_resuming_with_its_position_gets_exactly_the_missed_diffs_and_beyond_the_window_a_snapshot()
    {
        foreach (var (channel, missed, recovered) in new[] { ("room:resume", 2, true), ("short:resume", 3, false) })
        {
            var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
            var (state, _) = await alice.SubscribeAsync(channel, "list");
            var since = $$"""{"epoch":"{{state.GetProperty("epoch").GetString()}}","seq":{{state.GetProperty("seq").GetInt64()}}}""";
            // A presence_count (or a diff) may be on its way ahead of the reply: read up to the reply itself.
            await alice.SendAsync($$"""{"id":2,"op":"unsubscribe","channel":"{{channel}}"}""");
            while ((await alice.ReceiveAsync()).GetProperty("type").GetString() != "unsubscribed")
            {
            }

            // Presence goes on while alice is away: her own leave, then joins.
            var others = new List<WsClient>();
            for (var i = 0; i < missed - 1; i++)
            {
                var other = await WsClient.ConnectAsync(server, bearer: Tokens.Mint($"user{i}"));
                await other.SubscribeAsync(channel, "enter");
                others.Add(other);
            }

            await using var watcher = await WsClient.ConnectAsync(server);
            var (watched, _) = await watcher.SubscribeAsync(channel, "list");
            Assert.Equal(missed - 1, watched.GetProperty("users").GetInt32());

            var (resumed, members) = await alice.SubscribeAsync(channel, "list", since);
            Assert.Equal(recovered, resumed.GetProperty("recovered").GetBoolean());
            if (recovered)
            {
                var diffs = new List<JsonElement>();
                for (var i = 0; i < missed; i++)
                    diffs.Add(await alice.ExpectAsync("presence"));
                Assert.Equal(["alice"], diffs[0].Users("leave"));
                Assert.Equal(state.GetProperty("seq").GetInt64(), diffs[0].GetProperty("from").GetInt64());
                for (var i = 1; i < diffs.Count; i++)
                    Assert.Equal(diffs[i - 1].GetProperty("to").GetInt64(), diffs[i].GetProperty("from").GetInt64());

                // Then her own join, live.
                Assert.Equal(["alice"], (await alice.ExpectAsync("presence")).Users("join"));
            }
            else
            {
                Assert.Equal(["alice", .. Enumerable.Range(0, missed - 1).Select(i => $"user{i}")], members.Order(StringComparer.Ordinal));
            }

            foreach (var other in others)
                await other.DisposeAsync();
            await alice.DisposeAsync();
        }
    }

    [Fact]
    public async Task SSE_and_NDJSON_subscribers_are_present_and_receive_the_state_the_snapshot_and_diffs()
    {
        const string channel = "room:push";
        using var aliceHttp = server.CreateClient(Tokens.Mint("alice"));
        await using var sse = await PushClient.ConnectAsync(aliceHttp, "sse", [channel], extraQuery: "presence=list");
        await sse.ExpectAsync("subscribed");
        var state = await sse.ExpectAsync("presence_state");
        Assert.Equal("list", state.Json.GetProperty("mode").GetString());
        Assert.Equal(["alice"], (await sse.ExpectAsync("presence_snapshot")).Json.Users("members"));

        using var bobHttp = server.CreateClient(Tokens.Mint("bob"));
        await using var ndjson = await PushClient.ConnectAsync(bobHttp, "stream", [channel], extraQuery: "presence=list");
        await ndjson.ExpectAsync("subscribed");
        await ndjson.ExpectAsync("presence_state");
        var snapshot = (await ndjson.ExpectAsync("presence_snapshot")).Json;
        Assert.Equal(["alice", "bob"], snapshot.Users("members"));

        var join = await NextDiffAsync(sse);
        Assert.Equal(["bob"], join.Users("join"));
        Assert.Equal(snapshot.GetProperty("seq").GetInt64(), join.GetProperty("to").GetInt64());

        using var api = server.CreateClient();
        var list = await GetJsonAsync(api, $"v1/channels/{channel}/presence");
        Assert.Equal(2, list.GetProperty("users").GetInt32());
        Assert.Equal(["alice", "bob"], list.Users("members"));
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("stream")]
    public async Task An_SSE_or_NDJSON_client_resuming_with_presenceSince_gets_exactly_the_missed_diffs(string transport)
    {
        var channel = "room:resume-" + transport;
        using var aliceHttp = server.CreateClient(Tokens.Mint("alice"));
        PresenceSinceOf state;
        await using (var first = await PushClient.ConnectAsync(aliceHttp, transport, [channel], extraQuery: "presence=list"))
        {
            await first.ExpectAsync("subscribed");
            // A conflated count of alice's own join may overtake the state (seen once in a full run).
            var json = (await first.ExpectSkippingAsync("presence_state", "presence_count")).Json;
            state = new(json.GetProperty("epoch").GetString()!, json.GetProperty("seq").GetInt64());
            await first.ExpectAsync("presence_snapshot");
        }

        // While alice is away (her own stream ended: she stays listed for the 2 s grace), bob comes and goes.
        await using (var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob")))
        {
            await bob.SubscribeAsync(channel, "enter");
            await bob.RequestAsync($$"""{"id":2,"op":"unsubscribe","channel":"{{channel}}"}""");
        }

        var since = Uri.EscapeDataString($"{state.Epoch}.{state.Seq}.{channel}");
        await using var resumed = await PushClient.ConnectAsync(aliceHttp, transport, [channel], extraQuery: $"presence=list&presenceSince={since}");
        await resumed.ExpectAsync("subscribed");
        var again = (await resumed.ExpectSkippingAsync("presence_state", "presence_count")).Json;
        Assert.True(again.GetProperty("recovered").GetBoolean());
        var join = await NextDiffAsync(resumed);
        Assert.Equal(["bob"], join.Users("join"));
        Assert.Equal(state.Seq, join.GetProperty("from").GetInt64());
        var leave = await NextDiffAsync(resumed);
        Assert.Equal(["bob"], leave.Users("leave"));
        Assert.Equal(state.Seq + 1, leave.GetProperty("from").GetInt64());
    }

    private readonly record struct PresenceSinceOf(string Epoch, long Seq);

    [Fact]
    public async Task Anonymous_connections_are_counted_not_listed_and_count_mode_is_the_most_a_count_namespace_gives()
    {
        await using var anonymous = await WsClient.ConnectAsync(server);
        var (state, _) = await anonymous.SubscribeAsync("lobby:a", "list");
        Assert.Equal("count", state.GetProperty("mode").GetString());
        Assert.Equal(0, state.GetProperty("users").GetInt32());
        Assert.Equal(1, state.GetProperty("connections").GetInt32());

        await using var carol = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("carol"));
        await carol.SubscribeAsync("lobby:a", "enter");
        // Counts are conflated (at most one a second): the first may still be the one before carol.
        JsonElement count;
        do
        {
            count = await anonymous.ReceiveAsync();
            Assert.Equal("presence_count", count.GetProperty("type").GetString());
        }
        while (count.GetProperty("connections").GetInt32() < 2);
        Assert.Equal(1, count.GetProperty("users").GetInt32());
        Assert.Equal(2, count.GetProperty("connections").GetInt32());

        // A namespace without presence says so to a client that asked.
        var (off, _) = await anonymous.SubscribeAsync("news:a", "list");
        Assert.Equal("off", off.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Status_and_token_info_reach_list_subscribers_and_limits_are_enforced()
    {
        const string channel = "room:status";
        await using var alice = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("alice"));
        await alice.SubscribeAsync(channel, "list");
        await using var bob = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("bob", new Dictionary<string, object> { ["info"] = new Dictionary<string, object> { ["name"] = "Bob" } }));
        await bob.SubscribeAsync(channel, "enter");
        var join = await alice.ExpectAsync("presence");
        Assert.Equal("Bob", join.GetProperty("join")[0].GetProperty("info").GetProperty("name").GetString());

        Assert.Equal("status_set", (await bob.RequestAsync($$"""{"id":3,"op":"status","channel":"{{channel}}","status":"away"}""")).GetProperty("type").GetString());
        var update = await alice.ExpectAsync("presence");
        Assert.Equal("away", update.GetProperty("update")[0].GetProperty("status").GetString());
        Assert.Equal("rate_limited", (await bob.RequestAsync($$"""{"id":4,"op":"status","channel":"{{channel}}","status":"back"}""")).GetProperty("code").GetString());
        Assert.Equal("message_too_large", (await bob.RequestAsync($$"""{"id":5,"op":"status","channel":"{{channel}}","status":"{{new string('x', 257)}}"}""")).GetProperty("code").GetString());
        Assert.Equal("not_present", (await bob.RequestAsync("""{"id":6,"op":"status","channel":"room:elsewhere","status":"x"}""")).GetProperty("code").GetString());
        Assert.Equal("bad_request", (await bob.RequestAsync("""{"id":7,"op":"subscribe","channel":"room:x","presence":"everything"}""")).GetProperty("code").GetString());

        // A token whose info claim is over Herald:Auth:MaxInfoBytes (1 KiB) is refused.
        var big = Tokens.Mint("dave", new Dictionary<string, object> { ["info"] = new string('i', 1100) });
        Assert.Equal(403, await WsClient.RefusedStatusAsync(server, "?token=" + big));
    }

    [Fact]
    public async Task The_server_API_pages_members_counts_them_and_tells_who_is_online()
    {
        const string channel = "room:api";
        var clients = new List<WsClient>();
        foreach (var user in new[] { "u1", "u2", "u3" })
        {
            var client = await WsClient.ConnectAsync(server, bearer: Tokens.Mint(user));
            await client.SubscribeAsync(channel, "enter");
            clients.Add(client);
        }

        using var api = server.CreateClient();
        var first = await GetJsonAsync(api, $"v1/channels/{channel}/presence?limit=2");
        Assert.Equal(["u1", "u2"], first.Users("members"));
        Assert.Equal("u2", first.GetProperty("next").GetString());
        var second = await GetJsonAsync(api, $"v1/channels/{channel}/presence?limit=2&after=u2");
        Assert.Equal(["u3"], second.Users("members"));
        Assert.False(second.TryGetProperty("next", out _));

        var count = await GetJsonAsync(api, $"v1/channels/{channel}/presence/count");
        Assert.Equal(3, count.GetProperty("users").GetInt32());
        var online = await GetJsonAsync(api, "v1/presence/online?user=u1&user=nobody");
        Assert.True(online.GetProperty("users").GetProperty("u1").GetProperty("online").GetBoolean());
        Assert.False(online.GetProperty("users").GetProperty("nobody").GetProperty("online").GetBoolean());

        using var anonymous = server.CreateClient(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/presence/online?user=u1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync("v1/presence/online")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"v1/channels/{channel}/presence?limit=0")).StatusCode);
        using var off = await api.GetAsync("v1/channels/news:a/presence");
        Assert.Equal(HttpStatusCode.Forbidden, off.StatusCode);
        Assert.Contains("presence_disabled", await off.Content.ReadAsStringAsync());

        foreach (var client in clients)
            await client.DisposeAsync();
    }

    private static async Task<JsonElement> NextDiffAsync(PushClient client)
    {
        while (true)
        {
            var message = await client.ReadAsync();
            Assert.NotNull(message);
            if (message.Type == "presence")
                return message.Json;
            Assert.Equal("presence_count", message.Type);
        }
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string uri)
    {
        using var response = await client.GetAsync(new Uri(uri, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}

/// <summary>Nodes sharing a backplane share its presence: a join on one node reaches a list subscriber on another.</summary>
public sealed class BackplanePresenceTests
{
    [Fact]
    public async Task A_join_on_one_node_reaches_a_list_subscriber_on_another_through_the_shared_store()
    {
        await using var backplane = new Herald.Engine.Memory.MemoryBackplane(seed: 3);
        var settings = new Dictionary<string, string?>
        {
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:Namespaces:room:Presence"] = "List",
            ["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00",
        };
        await using var a = await TestServer.StartAsync(store: "memory", settings: settings, engine: b => b.UseMemoryBackplane(backplane));
        await using var b = await TestServer.StartAsync(store: "memory", settings: settings, engine: b => b.UseMemoryBackplane(backplane));

        await using var alice = await WsClient.ConnectAsync(a, bearer: Tokens.Mint("alice"));
        var (state, members) = await alice.SubscribeAsync("room:shared", "list");
        Assert.Equal(["alice"], members);
        await using var bob = await WsClient.ConnectAsync(b, bearer: Tokens.Mint("bob"));
        await bob.SubscribeAsync("room:shared", "enter");
        var join = await alice.ExpectAsync("presence");
        Assert.Equal(["bob"], join.Users("join"));
        Assert.Equal(state.GetProperty("seq").GetInt64(), join.GetProperty("from").GetInt64());
    }
}

/// <summary>Pollers are present through a lease each poll renews, and read presence in the poll's answer.</summary>
public sealed class PollPresenceTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:room:Presence"] = "List",
        ["Herald:Namespaces:room:PresenceLeaveGrace"] = "00:00:01",
        ["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_long_poller_is_listed_sees_a_WebSocket_join_in_a_held_poll_and_leaves_when_its_lease_ends()
    {
        const string channel = "room:poll";
        await using var watcher = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("wanda"));
        await watcher.SubscribeAsync(channel, "list");

        using var pat = server.CreateClient(Tokens.Mint("pat"));
        var first = await PollAsync(pat, $"v1/poll?channel={channel}&presence=list&wait=0");
        var presence = first.GetProperty("channels").GetProperty(channel).GetProperty("presence");
        Assert.False(presence.GetProperty("recovered").GetBoolean());
        Assert.Equal(["pat", "wanda"], presence.Users("members"));
        Assert.Equal(["pat"], (await watcher.ExpectAsync("presence")).Users("join"));

        // A held poll from that position returns with the next diff, not after its wait.
        var since = $"{presence.GetProperty("epoch").GetString()}.{presence.GetProperty("seq").GetInt64()}.{channel}";
        var held = PollAsync(pat, $"v1/poll?channel={channel}&presence=list&wait=20&cursor={first.GetProperty("cursor").GetString()}&presenceSince={Uri.EscapeDataString(since)}");
        await using var quinn = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("quinn"));
        await quinn.SubscribeAsync(channel, "enter");
        var answer = (await held.WaitAsync(TimeSpan.FromSeconds(15))).GetProperty("channels").GetProperty(channel).GetProperty("presence");
        Assert.True(answer.GetProperty("recovered").GetBoolean());
        var diffs = answer.GetProperty("diffs").EnumerateArray().ToList();
        Assert.Single(diffs);
        Assert.Equal(["quinn"], diffs[0].Users("join"));
        Assert.Equal(["quinn"], (await watcher.ExpectAsync("presence")).Users("join"));

        // No more polls: the lease (wait + grace + 3 s) ends and pat leaves.
        Assert.Equal(["pat"], (await watcher.ExpectAsync("presence")).Users("leave"));
    }

    private static async Task<JsonElement> PollAsync(HttpClient client, string uri)
    {
        using var response = await client.GetAsync(new Uri(uri, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }
}
