using Herald.Client;

namespace Herald.IntegrationTests.Client;

/// <summary>
/// The server is killed (SIGKILL) and started again on the same port: with SQLite every transport
/// resumes without loss or duplicates, on the same transport; with the memory store the client says reset.
/// </summary>
public sealed class ClientRestartTests
{
    public static TheoryData<HeraldTransport> All => [HeraldTransport.WebSocket, HeraldTransport.Sse, HeraldTransport.Stream, HeraldTransport.LongPoll, HeraldTransport.Poll];

    [Theory]
    [MemberData(nameof(All))]
    public async Task Resumes_with_0_gaps_and_0_duplicates_after_the_server_is_killed_mid_stream_and_restarted(HeraldTransport transport)
    {
        var data = TempDirectory.Create();
        var server = await HeraldProcess.StartAsync(data, "--Herald:ApiKeys:0=" + TestServer.ApiKey);
        try
        {
            var channel = Clients.FreshChannel("news");
            // The default order: a restart must bring the client back on its transport, not a fallback.
            HeraldTransport[] order = transport == HeraldTransport.WebSocket ? [.. HeraldTransports.Default] : [transport];
            await using var client = Clients.Create(server.BaseAddress, order, o => o.ApiKey = TestServer.ApiKey);
            var log = new ClientLog(client);
            var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));

            // A publisher that keeps going through the kill: everything acknowledged must arrive once.
            using var stop = new CancellationTokenSource();
            var acknowledged = 0L;
            var publisher = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var result = await client.PublishAsync(channel, JsonData.Parse($"{{\"n\":{acknowledged + 1}}}"), null, stop.Token);
                        acknowledged = Math.Max(acknowledged, result.Offset);
                    }
                    catch (Exception e) when (e is HeraldException or OperationCanceledException)
                    {
                        await Task.Delay(50);
                    }
                }
            });
            await received.Count(20);
            await server.KillAsync();
            await Clients.Until(() => client.State != ConnectionState.Connected, TimeSpan.FromSeconds(30), () => "the kill went unnoticed: " + log);
            await server.DisposeAsync();
            server = await HeraldProcess.StartAsync(data, server.BaseAddress.Port, "--Herald:ApiKeys:0=" + TestServer.ApiKey);
            var before = Volatile.Read(ref acknowledged);
            await Clients.Until(() => Volatile.Read(ref acknowledged) >= before + 20, TimeSpan.FromSeconds(60), () => "no publishing after the restart: " + log);
            await stop.CancelAsync();
            await publisher.WaitAsync(TimeSpan.FromSeconds(60));

            var top = (await client.HistoryAsync(channel, new HistoryOptions { Limit = 1, Reverse = true }).WaitAsync(TimeSpan.FromSeconds(30))).Top;
            await received.Count((int)top, 60);
            Assert.Equal(Clients.Range(1, top), received.Offsets);
            Assert.DoesNotContain(received.Events, e => e.StartsWith("reset", StringComparison.Ordinal));
            Assert.Contains(received.Events, e => e.StartsWith($"recovered:{transport}:", StringComparison.Ordinal));
            Assert.Equal(transport, client.Transport);
            Assert.DoesNotContain(log.Entries, e => e.StartsWith("connecting:", StringComparison.Ordinal) && e != $"connecting:{transport}");
        }
        finally
        {
            await server.DisposeAsync();
            TempDirectory.Delete(data);
        }
    }

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Sse)]
    [InlineData(HeraldTransport.LongPoll)]
    public async Task Says_reset_when_the_restarted_memory_store_lost_the_history_then_delivers_the_new_epoch(HeraldTransport transport)
    {
        var data = TempDirectory.Create();
        var server = await HeraldProcess.StartAsync(data, "--store", "memory", "--Herald:ApiKeys:0=" + TestServer.ApiKey);
        try
        {
            var channel = Clients.FreshChannel("news");
            await using var client = Clients.Create(server.BaseAddress, [transport], o => o.ApiKey = TestServer.ApiKey);
            var received = new Received<JsonData>(await client.SubscribeAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));
            for (var n = 1; n <= 3; n++)
                await client.PublishAsync(channel, JsonData.Parse(n.ToString(System.Globalization.CultureInfo.InvariantCulture))).WaitAsync(TimeSpan.FromSeconds(30));
            await received.Count(3);
            var before = received.Publications[0].Epoch;

            await server.KillAsync();
            await server.DisposeAsync();
            server = await HeraldProcess.StartAsync(data, server.BaseAddress.Port, "--store", "memory", "--Herald:ApiKeys:0=" + TestServer.ApiKey);
            await received.Event("reset:", 60);
            Assert.Contains($"reset:{transport}:3->0", received.Events);
            await client.PublishAsync(channel, JsonData.Parse("4")).WaitAsync(TimeSpan.FromSeconds(30));
            await received.Count(4);

            var last = received.Publications[3];
            Assert.Equal(1, last.Offset);
            Assert.NotEqual(before, last.Epoch);
            Assert.Equal(new Position(last.Epoch, 1), received.Subscription.Position);
        }
        finally
        {
            await server.DisposeAsync();
            TempDirectory.Delete(data);
        }
    }
}
