using System.Net;
using System.Runtime.CompilerServices;
using Herald.IntegrationTests.Transports;

namespace Herald.IntegrationTests.Tls;

/// <summary>
/// Kestrel:Limits:Http2:MaxStreamsPerConnection (Kestrel's default, 100) is the number of push
/// streams one HTTP/2 connection holds at once; a client queues the next one until a stream ends.
/// </summary>
public sealed class Http2LimitTests
{
    [Fact]
    public async Task A_connection_holds_MaxStreamsPerConnection_streams_and_the_next_waits_for_one_to_end()
    {
        using var tls = TlsFiles.Create();
        var settings = tls.Settings;
        settings["Kestrel:Limits:Http2:MaxStreamsPerConnection"] = "3";
        await using var server = await TestServer.StartAsync(store: "memory", settings: settings);
        var connections = new StrongBox<int>();
        using var client = TlsFiles.Client(tls.Handler(connections), server, HttpVersion.Version20);

        var open = new List<PushClient>();
        for (var i = 0; i < 3; i++)
        {
            open.Add(await PushClient.ConnectAsync(client, "sse", ["limit:h2"]));
            await open[^1].ExpectAsync("subscribed");
        }

        // The fourth cannot start while three streams are open: the server announced 3 in its SETTINGS.
        var fourth = PushClient.ConnectAsync(client, "sse", ["limit:h2"]);
        var early = await Task.WhenAny(fourth, Task.Delay(TimeSpan.FromSeconds(1)));
        Assert.NotSame(fourth, early);

        await open[0].DisposeAsync();
        await using var started = await fourth.WaitAsync(TimeSpan.FromSeconds(30));
        await started.ExpectAsync("subscribed");
        Assert.Equal(1, connections.Value);

        foreach (var stream in open.Skip(1))
            await stream.DisposeAsync();
    }
}
