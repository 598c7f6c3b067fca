using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Herald.Hub;
using Herald.Transports.LongPoll;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Herald.IntegrationTests.Transports.LongPoll;

/// <summary>Runs alone: 1,000 connections would skew other classes' timing, and theirs this one's measurement.</summary>
[CollectionDefinition(nameof(LongPollLoad), DisableParallelization = true)]
public sealed class LongPollLoad;

[Collection(nameof(LongPollLoad))]
public sealed class LongPollLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Thousand_held_polls_are_all_answered_after_one_publish()
    {
        const int polls = 1000;
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:MaxHeldPollsPerIp"] = "1000",
        });
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 2000, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        const string channel = "chat:crowd";
        var cursor = (await client.PollAsync(channel, wait: 0)).Cursor;

        var answers = new Task<PollResult>[polls];
        var answeredAt = new long[polls];
        for (var i = 0; i < polls; i++)
        {
            var index = i;
            answers[i] = Task.Run(async () =>
            {
                var result = await client.PollAsync(channel, cursor, wait: 60);
                answeredAt[index] = Stopwatch.GetTimestamp();
                return result;
            });
        }

        await server.WaitUntilHeldAsync(polls);
        await server.WaitUntilWaitingAsync(polls);
        Assert.Equal(polls, server.Services.GetRequiredService<PollWaiters>().Count);

        var published = Stopwatch.GetTimestamp();
        var offset = await client.PublishDataAsync(channel, "\"to everyone\"");
        var results = await Task.WhenAll(answers).WaitAsync(TimeSpan.FromSeconds(60));
        var elapsed = Stopwatch.GetElapsedTime(published, answeredAt.Max());
        output.WriteLine($"{polls} held polls: publish to last answer {elapsed.TotalMilliseconds:F0} ms");

        Assert.All(results, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.Equal([offset], r.Publications.Offsets());
        });
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"The last of {polls} answers came {elapsed} after the publish.");
        await server.WaitUntilHeldAsync(0);
        Assert.Equal(0, server.Services.GetRequiredService<PollWaiters>().Count);
    }

    [Fact]
    public async Task Thousand_held_polls_are_answered_from_the_publication_the_node_has_without_reading_the_store()
    {
        const int polls = 1000;
        var log = new CountingLog();
        await using var server = await TestServer.StartAsync(
            "memory",
            new Dictionary<string, string?> { ["Herald:Transports:MaxHeldPollsPerIp"] = "1000" },
            engine: b => b.UseEngine("counting", services => log.CreateEngine(services)));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 2000, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(90) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ApiKey);
        const string channel = "chat:crowd";
        var cursor = (await client.PollAsync(channel, wait: 0)).Cursor;
        var answers = Enumerable.Range(0, polls).Select(_ => Task.Run(() => client.PollAsync(channel, cursor, wait: 60))).ToArray();
        await server.WaitUntilWaitingAsync(polls);

        var readsBefore = log.Reads;
        var offset = await client.PublishDataAsync(channel, "\"to everyone\"");
        var results = await Task.WhenAll(answers).WaitAsync(TimeSpan.FromSeconds(60));
        var reads = log.Reads - readsBefore;
        output.WriteLine($"{polls} held polls answered with {reads} store reads for one publication");

        Assert.All(results, r => Assert.Equal([offset], r.Publications.Offsets()));
        Assert.True(reads <= 2, $"{reads} store reads answered {polls} held polls: they should be answered from the publication");
    }

    [Fact]
    public async Task Held_polls_past_the_per_address_cap_get_429_until_one_completes_or_is_abandoned()
    {
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:MaxHeldPollsPerIp"] = "3",
        });
        using var client = server.CreateClient();
        var held = new Task<PollResult>[3];
        for (var i = 0; i < held.Length; i++)
            held[i] = client.PollAsync($"chat:cap{i}", wait: 30);
        await server.WaitUntilWaitingAsync(3);

        var refused = await client.PollAsync("chat:cap-extra", wait: 30);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("too_many_polls", refused.Code);
        Assert.Equal(TimeSpan.FromSeconds(PollLimiter.RetryAfterSeconds), refused.Response.Headers.RetryAfter?.Delta);

        // Short polls are not held, so they are not counted.
        Assert.Equal(HttpStatusCode.OK, (await client.PollAsync("chat:cap-extra", wait: 0)).Status);

        // One completes: its slot is free again.
        await client.PublishDataAsync("chat:cap0", "1");
        Assert.Equal(HttpStatusCode.OK, (await held[0]).Status);
        await server.WaitUntilHeldAsync(2);
        var replacement = client.PollAsync("chat:cap3", wait: 30);
        await server.WaitUntilWaitingAsync(3);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PollAsync("chat:cap-extra", wait: 30)).Status);

        // One is abandoned by its client: the slot is freed at once, not when its wait ends.
        using var abandon = new CancellationTokenSource();
        await client.PublishDataAsync("chat:cap1", "1");
        await held[1];
        await server.WaitUntilHeldAsync(2);
        var abandoned = client.PollAsync("chat:cap4", wait: 30, cancellationToken: abandon.Token);
        await server.WaitUntilWaitingAsync(3);
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await server.WaitUntilHeldAsync(2);
        var accepted = client.PollAsync("chat:cap5", wait: 30);
        await server.WaitUntilWaitingAsync(3);

        await client.PublishDataAsync("chat:cap2", "1");
        await client.PublishDataAsync("chat:cap3", "1");
        await client.PublishDataAsync("chat:cap5", "1");
        Assert.All(await Task.WhenAll(held[2], replacement, accepted).WaitAsync(Poll.Timeout), r => Assert.Single(r.Publications));
        await server.WaitUntilHeldAsync(0);
    }

    [Fact]
    public async Task Held_polls_past_the_node_cap_get_429()
    {
        await using var server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Herald:Transports:MaxHeldPolls"] = "2",
        });
        using var client = server.CreateClient();
        var first = client.PollAsync("chat:n1", wait: 30);
        var second = client.PollAsync("chat:n2", wait: 30);
        await server.WaitUntilWaitingAsync(2);

        var refused = await client.PollAsync("chat:n3", wait: 30);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.Status);
        Assert.Equal("too_many_polls", refused.Code);
        Assert.NotNull(refused.Response.Headers.RetryAfter);

        await client.PublishDataAsync("chat:n1", "1");
        await client.PublishDataAsync("chat:n2", "1");
        await Task.WhenAll(first, second).WaitAsync(Poll.Timeout);
        await server.WaitUntilHeldAsync(0);
    }

    [Fact]
    public async Task Stopping_the_server_answers_held_polls_at_once_with_their_cursor()
    {
        var server = await TestServer.StartAsync();
        Task? stopping = null;
        try
        {
            using var client = server.CreateClient();
            var start = await client.PollAsync("chat:stop", wait: 0);
            var held = client.PollAsync("chat:stop", start.Cursor, wait: 60);
            await server.WaitUntilWaitingAsync(1);
            var stopwatch = Stopwatch.StartNew();
            stopping = server.DisposeAsync().AsTask();
            var answer = await held.WaitAsync(Poll.Timeout);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Empty(answer.Publications);
            Assert.Equal(start.Cursor, answer.Cursor);
            await stopping.WaitAsync(Poll.Timeout);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"Stopping took {stopwatch.Elapsed}.");
        }
        finally
        {
            if (stopping is null)
                await server.DisposeAsync();
        }
    }
}
