using Herald.Engine;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.IntegrationTests.Transports.LongPoll;

/// <summary>Short polling (<c>wait=0</c>) resumes like every other transport.</summary>
public sealed class ShortPollTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Short_polls_receive_live_publications_then_exactly_the_500_missed_and_a_stale_epoch_resets()
    {
        using var client = server.CreateClient();
        const string channel = "chat:short";
        var cursor = (await client.PollAsync(channel, wait: 0)).Cursor;

        var live = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            await client.PublishDataAsync(channel, $"\"live-{i}\"");
            var answer = await client.PollAsync(channel, cursor, wait: 0);
            Assert.True(answer.Recovered(channel));
            live.AddRange(answer.Publications.Offsets());
            cursor = answer.Cursor;
        }

        Assert.Equal([1L, 2, 3, 4, 5], live);

        for (var i = 1; i <= 500; i++)
            await client.PublishDataAsync(channel, i.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var missed = new List<System.Text.Json.JsonElement>();
        while (true)
        {
            var answer = await client.PollAsync(channel, cursor, wait: 0);
            Assert.True(answer.Recovered(channel));
            cursor = answer.Cursor;
            if (answer.Publications.Count == 0)
                break;
            missed.AddRange(answer.Publications);
        }

        Assert.Equal(Enumerable.Range(6, 500).Select(i => (long)i), missed.Offsets());
        Assert.Equal(Enumerable.Range(1, 500), missed.Select(p => p.GetProperty("data").GetInt32()));

        // The channel's history is lost (a new epoch): the old cursor gets an explicit reset.
        await server.Services.GetRequiredService<IChannelLog>().RemoveAsync(channel);
        await client.PublishDataAsync(channel, "\"after-reset\"");
        var reset = await client.PollAsync(channel, cursor, wait: 0);
        Assert.False(reset.Recovered(channel));
        Assert.Empty(reset.Publications);
    }
}
