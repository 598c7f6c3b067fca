using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Presence;

/// <summary>A reconnect storm within the leave grace costs the room's other members nothing.</summary>
public sealed class ReconnectStormTests
{
    private const int Members = 1000;

    [Fact]
    public async Task A_thousand_members_dropping_and_reconnecting_within_the_grace_send_zero_presence_diffs_to_the_others()
    {
        await using var server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
        {
            ["Herald:Auth:HmacSecret"] = Tokens.Secret,
            ["Herald:Namespaces:room:Presence"] = "List",
            ["Herald:Namespaces:room:PresenceListLimit"] = "5000",

            // Longer than the storm can take on a busy machine: what is tested is "within the grace".
            ["Herald:Namespaces:room:PresenceLeaveGrace"] = "00:01:00",
        });
        const string channel = "room:storm";
        var tokens = Enumerable.Range(0, Members).Select(i => Tokens.Mint($"member{i:D4}")).ToArray();
        var members = await OpenAsync(server, tokens, channel);

        await using var watcher = await WsClient.ConnectAsync(server, bearer: Tokens.Mint("watcher"));
        var (state, list) = await watcher.SubscribeAsync(channel, "list");
        Assert.Equal(Members + 1, list.Length);
        var seq = state.GetProperty("seq").GetInt64();

        // Every member's connection drops (no close frame), and every member comes back.
        foreach (var member in members)
        {
            member.Abort();
            await member.DisposeAsync();
        }

        var again = await OpenAsync(server, tokens, channel);

        // Anything the storm made would have gone out within a second (large-room coalescing):
        // wait past that, then a publication marks the end.
        await Task.Delay(TimeSpan.FromSeconds(3));
        using var api = server.CreateClient();
        using (await api.PublishAsync(channel, """{"data":"after the storm"}"""))
        {
        }

        var next = await watcher.NextAsync();
        Assert.Equal("publication", next.GetProperty("type").GetString());
        using var count = await api.GetAsync(new Uri($"v1/channels/{channel}/presence", UriKind.Relative));
        var after = await count.ReadJsonAsync();
        Assert.Equal(seq, after.GetProperty("seq").GetInt64());
        Assert.Equal(Members + 1, after.GetProperty("users").GetInt32());

        foreach (var member in again)
            await member.DisposeAsync();
    }

    private static async Task<List<WsClient>> OpenAsync(TestServer server, string[] tokens, string channel)
    {
        var clients = new WsClient[tokens.Length];
        for (var start = 0; start < tokens.Length; start += 50)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(50, tokens.Length - start)).Select(async i =>
            {
                var client = await WsClient.ConnectAsync(server, bearer: tokens[i]);
                var reply = await client.RequestAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}"}""");
                Assert.Equal("subscribed", reply.GetProperty("type").GetString());
                clients[i] = client;
            }));
        }

        return [.. clients];
    }
}
