using System.Text.Json;

namespace Herald.IntegrationTests.Transports.Sse;

/// <summary>/v1/sse against a real third-party client: the npm <c>eventsource</c> package (tests/node/sse-client.mjs).</summary>
public sealed class SseEventSourceTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(settings: new Dictionary<string, string?>
    {
        // The library waits `retry` before reconnecting; keep the test short.
        ["Herald:Transports:SseRetryMilliseconds"] = "200",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task The_eventsource_package_reconnects_with_Last_Event_ID_and_gets_exactly_the_missed_events()
    {
        const int Count = 40;
        var channel = PushTransportTests.NewChannel("chat");
        var (exitCode, output, error) = await NodeScript.RunAsync(
            "sse-client.mjs", TimeSpan.FromSeconds(90), server.BaseAddress.ToString(), channel, TestServer.ApiKey, Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, $"node exited {exitCode}: {output} {error}");

        var summary = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        Assert.True(summary.GetProperty("ok").GetBoolean(), output);

        // Phase 1 and 2 on one EventSource: 1..2N, in order, no duplicate, no gap.
        Assert.Equal(Enumerable.Range(1, 2 * Count).Select(i => (long)i), summary.GetProperty("offsets").EnumerateArray().Select(e => e.GetInt64()));

        // Phase 3, a new EventSource with ?lastEventId=: exactly the N published while it was closed.
        Assert.Equal(Enumerable.Range((2 * Count) + 1, Count).Select(i => (long)i), summary.GetProperty("resumedOffsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(Enumerable.Range(1, 3 * Count), summary.GetProperty("numbers").EnumerateArray().Select(e => e.GetInt32()));

        // The library itself reconnected once, sending the id of the last event it saw.
        var requests = summary.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(JsonValueKind.Null, requests[0].GetProperty("lastEventId").ValueKind);
        Assert.False(string.IsNullOrEmpty(requests[1].GetProperty("lastEventId").GetString()));

        // One subscribed event per connection, each recovered (the first is live from now: offset 0).
        var subscribed = summary.GetProperty("subscribed").EnumerateArray().ToList();
        Assert.Equal(3, subscribed.Count);
        Assert.All(subscribed, s => Assert.True(s.GetProperty("recovered").GetBoolean()));
        Assert.Equal([0L, Count, 2L * Count], subscribed.Select(s => s.GetProperty("offset").GetInt64()));

        // Data holding \n and \r\n round-trips, and no event's data line held a raw line break.
        Assert.Equal(3 * Count / 10, summary.GetProperty("multiLineCount").GetInt32());
        Assert.Equal(0, summary.GetProperty("rawNewlines").GetInt32());
    }
}
