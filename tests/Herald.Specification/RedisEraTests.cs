using System.Text;
using Herald.Engine;
using Herald.Redis;
using Herald.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Herald.Specification;

/// <summary>
/// Redis can go back in time. Every way it does becomes a new epoch for the channels it touched —
/// an explicit reset for every client — and a restart that lost nothing changes nothing.
/// </summary>
public sealed class RedisEraTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly Retention s_roomy = new(100_000, TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));

    private readonly RedisEngineOptions _options = RedisFixture.NewOptions();
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
    }

    [Fact]
    public async Task A_redis_restarted_empty_gives_the_channel_a_new_epoch()
    {
        var server = await StartAsync(null);
        var log = await NewLogAsync(server);
        var before = await AppendAsync(log, "chat:a");

        await server.RestartAsync();
        await WaitConnectedAsync(log);

        Assert.Equal(StreamState.Empty, await log.GetStateAsync("chat:a").AsTask().WaitAsync(s_timeout));
        var after = await AppendAsync(log, "chat:a");
        Assert.Equal(1, after.Offset);
        Assert.NotEqual(before.Epoch, after.Epoch);
    }

    [Fact]
    public async Task A_restart_from_an_aof_fsynced_always_loses_nothing_and_changes_no_epoch()
    {
        var server = await StartAsync("always");
        var (log, check) = await NewNodeAsync(server);
        Assert.Equal(0, await check.RunAsync().WaitAsync(s_timeout));
        for (var i = 0; i < 5; i++)
            await AppendAsync(log, "chat:a");
        var epoch = (await log.GetStateAsync("chat:a")).Epoch;

        await server.RestartAsync();
        await WaitConnectedAsync(log);
        var rotated = await check.RunAsync().WaitAsync(s_timeout);

        Assert.Equal(0, rotated);
        Assert.Equal(new StreamState(epoch, 5, 1, 5), await log.GetStateAsync("chat:a").AsTask().WaitAsync(s_timeout));
        Assert.Equal(new Position(epoch, 6), (await AppendAsync(log, "chat:a")).Position);
    }

    [Fact]
    public async Task A_restart_of_a_redis_that_may_lose_writes_moves_every_written_partition_to_a_new_era_once()
    {
        var server = await StartAsync("everysec");
        var (first, firstCheck) = await NewNodeAsync(server);
        var (second, secondCheck) = await NewNodeAsync(server);
        await firstCheck.RunAsync().WaitAsync(s_timeout);
        var before = await AppendAsync(first, "chat:a");
        await Task.Delay(1500); // everysec: on disk by now, so the restart keeps it — and still must not trust it.

        await server.RestartAsync();
        await WaitConnectedAsync(first);
        await WaitConnectedAsync(second);
        var rotated = await firstCheck.RunAsync().WaitAsync(s_timeout);
        var again = await secondCheck.RunAsync().WaitAsync(s_timeout);

        Assert.True(rotated >= 1, $"rotated {rotated}");
        Assert.Equal(-1, again);
        Assert.Equal(StreamState.Empty, await second.GetStateAsync("chat:a").AsTask().WaitAsync(s_timeout));
        var after = await AppendAsync(second, "chat:a");
        Assert.NotEqual(before.Epoch, after.Epoch);
        Assert.Equal(1, after.Offset);
    }

    [Fact]
    public async Task Redis_restored_from_an_older_copy_is_detected_by_the_write_counter_and_the_channel_restarts_in_a_new_epoch()
    {
        var server = await StartAsync("always");
        var (log, _) = await NewNodeAsync(server);
        for (var i = 0; i < 3; i++)
            await AppendAsync(log, "chat:a");
        var copy = server.Snapshot();
        try
        {
            var acknowledged = new List<Publication>();
            for (var i = 0; i < 3; i++)
                acknowledged.Add(await AppendAsync(log, "chat:a"));

            // Back to offset 3, under the same run id's era: only the write counter tells.
            await server.RestoreAsync(copy);
            await WaitConnectedAsync(log);
            var state = await log.GetStateAsync("chat:a").AsTask().WaitAsync(s_timeout);

            Assert.Equal(StreamState.Empty, state);
            Assert.Equal(1, log.EraRotations);
            var next = await AppendAsync(log, "chat:a");
            Assert.NotEqual(acknowledged[^1].Epoch, next.Epoch);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task An_append_after_redis_went_back_in_time_never_hands_out_an_acknowledged_position_again()
    {
        var server = await StartAsync("always");
        var (log, _) = await NewNodeAsync(server);
        for (var i = 0; i < 3; i++)
            await AppendAsync(log, "chat:a");
        var copy = server.Snapshot();
        try
        {
            var acknowledged = new List<Publication>();
            for (var i = 0; i < 3; i++)
                acknowledged.Add(await AppendAsync(log, "chat:a"));

            await server.RestoreAsync(copy);
            await WaitConnectedAsync(log);
            var next = await AppendAsync(log, "chat:a");

            Assert.DoesNotContain(acknowledged, p => p.Position == next.Position);
            Assert.NotEqual(acknowledged[^1].Epoch, next.Epoch);
            Assert.Equal(1, next.Offset);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task Redis_restored_twice_from_a_copy_taken_before_the_first_rotation_is_detected_by_the_era_and_reuses_no_position()
    {
        var server = await StartAsync("always");
        var (log, _) = await NewNodeAsync(server);
        var acknowledged = new List<Publication>();
        for (var i = 0; i < 3; i++)
            acknowledged.Add(await AppendAsync(log, "chat:a"));
        var copy = server.Snapshot();
        try
        {
            for (var i = 0; i < 3; i++)
                acknowledged.Add(await AppendAsync(log, "chat:a"));

            // The first restore goes back to offset 3 in the same era: the write counter tells, and the partition rotates.
            await server.RestoreAsync(copy);
            await WaitConnectedAsync(log);
            for (var i = 0; i < 3; i++)
                acknowledged.Add(await AppendAsync(log, "chat:a"));
            Assert.Equal(1, log.EraRotations);

            // The second goes back to the era before that rotation, whose write counter is lower than
            // nothing this node saw in it since (it moved on to the newer era): only the era's generation tells.
            await server.RestoreAsync(copy);
            await WaitConnectedAsync(log);
            var next = await AppendAsync(log, "chat:a");

            Assert.Equal(2, log.EraRotations);
            Assert.DoesNotContain(acknowledged, p => p.Position == next.Position);
            Assert.DoesNotContain(acknowledged, p => p.Epoch == next.Epoch);
            Assert.Equal(1, next.Offset);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task A_node_reading_a_partition_back_in_an_older_era_rotates_it_before_anyone_appends()
    {
        var server = await StartAsync("always");
        var (writer, _) = await NewNodeAsync(server);
        var (reader, _) = await NewNodeAsync(server);
        await AppendAsync(writer, "chat:a");
        var copy = server.Snapshot();
        try
        {
            await AppendAsync(writer, "chat:a");
            await server.RestoreAsync(copy);
            await WaitConnectedAsync(writer);
            await AppendAsync(writer, "chat:a"); // rotates: the write counter went back
            await reader.GetStateAsync("chat:a"); // the reader now knows the newer era

            await server.RestoreAsync(copy);
            await WaitConnectedAsync(reader);
            var state = await reader.GetStateAsync("chat:a").AsTask().WaitAsync(s_timeout);

            Assert.Equal(StreamState.Empty, state);
            Assert.Equal(1, reader.EraRotations);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("abcdefgh", 0)]
    [InlineData("1.abcdefgh", 1)]
    [InlineData("42.x-y_z", 42)]
    [InlineData(".abc", 0)]
    public void An_eras_generation_is_the_number_before_its_dot(string era, long generation) =>
        Assert.Equal(generation, RedisEras.Generation(era));

    private async Task<RedisServer> StartAsync(string? fsync)
    {
        var server = await RedisServer.StartAsync(fsync);
        _owned.Add(server);
        return server;
    }

    private async Task<RedisChannelLog> NewLogAsync(RedisServer server) => (await NewNodeAsync(server)).Log;

    private async Task<(RedisChannelLog Log, RedisRestartCheck Check)> NewNodeAsync(RedisServer server)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        _owned.Add(connection);
        var log = new RedisChannelLog(connection, _options);
        _owned.Add(log);
        return (log, new RedisRestartCheck(connection, log.Keys, NullLogger.Instance));
    }

    private static async Task<Publication> AppendAsync(RedisChannelLog log, string channel) =>
        (await log.AppendAsync(new AppendRequest(channel, Encoding.UTF8.GetBytes("1"), s_roomy)).AsTask().WaitAsync(s_timeout)).Publication;

    private static async Task WaitConnectedAsync(RedisChannelLog log)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!await log.PingAsync())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("The connection did not come back.");
            await Task.Delay(100);
        }
    }
}
