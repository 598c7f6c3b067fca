using System.Net;
using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Unread;

/// <summary>Summary subscriptions: the newest {epoch, offset, n, time, from} per channel, conflated, no replay, counted apart.</summary>
public sealed class SummarySubscriptionTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync("memory", new Dictionary<string, string?>
    {
        ["Herald:Transports:SummaryInterval"] = "00:00:02",
        ["Herald:Transports:MaxSummaryChannelsPerConnection"] = "2",
        ["Herald:Transports:MaxChannelsPerConnection"] = "1",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private async Task PublishAsync(string channel, string body)
    {
        using var client = server.CreateClient();
        using var response = await client.PublishAsync(channel, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_summary_subscriber_gets_the_newest_state_conflated_and_no_publications()
    {
        await PublishAsync("chat:s", """{"data":"before"}""");
        await using var sidebar = await WsClient.ConnectAsync(server);
        var reply = await sidebar.RequestAsync("""{"id":1,"op":"subscribe","channel":"chat:s","mode":"summary"}""");
        Assert.Equal(("subscribed", "summary", false), (reply.GetProperty("type").GetString(), reply.GetProperty("mode").GetString(), reply.GetProperty("recovered").GetBoolean()));
        Assert.Equal((1L, 1L), (reply.GetProperty("offset").GetInt64(), reply.GetProperty("n").GetInt64()));

        for (var i = 0; i < 5; i++)
            await PublishAsync("chat:s", $$"""{"data":{{i}}}""");

        // No replay and no publication: summaries only, the first at once, the rest conflated to the newest.
        var summaries = new List<JsonElement>();
        do
        {
            var message = await sidebar.ReceiveAsync();
            Assert.Equal("summary", message.GetProperty("type").GetString());
            summaries.Add(message);
        }
        while (summaries[^1].GetProperty("offset").GetInt64() != 6);

        Assert.InRange(summaries.Count, 2, 3);
        Assert.Equal(2, summaries[0].GetProperty("offset").GetInt64());
        Assert.Equal(6, summaries[^1].GetProperty("n").GetInt64());
        Assert.Equal("chat:s", summaries[^1].GetProperty("channel").GetString());
        Assert.False(summaries[^1].TryGetProperty("data", out _));
    }

    [Fact]
    public async Task Summaries_are_counted_apart_from_full_subscriptions_and_each_limit_holds()
    {
        await using var client = await WsClient.ConnectAsync(server);
        Assert.Equal("subscribed", (await client.RequestAsync("""{"id":1,"op":"subscribe","channel":"chat:full"}""")).GetProperty("type").GetString());
        Assert.Equal("subscribed", (await client.RequestAsync("""{"id":2,"op":"subscribe","channel":"chat:a","mode":"summary"}""")).GetProperty("type").GetString());
        Assert.Equal("subscribed", (await client.RequestAsync("""{"id":3,"op":"subscribe","channel":"chat:b","mode":"summary"}""")).GetProperty("type").GetString());
        Assert.Equal("too_many_channels", (await client.RequestAsync("""{"id":4,"op":"subscribe","channel":"chat:c","mode":"summary"}""")).GetProperty("code").GetString());
        Assert.Equal("too_many_channels", (await client.RequestAsync("""{"id":5,"op":"subscribe","channel":"chat:d"}""")).GetProperty("code").GetString());

        // One channel, one way of following it.
        Assert.Equal("already_subscribed", (await client.RequestAsync("""{"id":6,"op":"subscribe","channel":"chat:full","mode":"summary"}""")).GetProperty("code").GetString());
        Assert.Equal("already_subscribed", (await client.RequestAsync("""{"id":9,"op":"subscribe","channel":"chat:a"}""")).GetProperty("code").GetString());
        Assert.Equal("bad_request", (await client.RequestAsync("""{"id":10,"op":"subscribe","channel":"chat:e","mode":"sidebar"}""")).GetProperty("code").GetString());

        // Unsubscribed from a summary: nothing more of it (the full channel's publication comes next).
        Assert.Equal("unsubscribed", (await client.RequestAsync("""{"id":11,"op":"unsubscribe","channel":"chat:a"}""")).GetProperty("type").GetString());
        await PublishAsync("chat:a", """{"data":1}""");
        await PublishAsync("chat:full", """{"data":2}""");
        var next = await client.ReceiveAsync();
        Assert.Equal(("publication", "chat:full"), (next.GetProperty("type").GetString(), next.GetProperty("channel").GetString()));

        // The freed slot takes another summary.
        Assert.Equal("subscribed", (await client.RequestAsync("""{"id":12,"op":"subscribe","channel":"chat:c","mode":"summary"}""")).GetProperty("type").GetString());
        Assert.Equal("bad_request", (await client.RequestAsync("""{"id":13,"op":"subscribe","channel":"chat:f","mode":"summary","since":{"epoch":"x","offset":1}}""")).GetProperty("code").GetString());
    }
}
