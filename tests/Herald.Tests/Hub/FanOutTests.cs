using System.Runtime.InteropServices;
using System.Text;
using Herald.Hub;

namespace Herald.Tests.Hub;

public sealed class FanOutTests
{
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task One_publication_is_encoded_once_and_the_same_bytes_reach_every_subscriber()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transports = Enumerable.Range(0, 100).Select(_ => new TestTransport()).ToArray();
        var sessions = transports.Select(t => new Session(t, hub)).ToArray();
        foreach (var session in sessions)
            await session.SubscribeAsync("chat:lobby", since: null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:lobby", 1);

        byte[]? first = null;
        foreach (var transport in transports)
        {
            await transport.WaitForMessagesAsync(1);
            var message = Assert.Single(transport.Messages);
            Assert.True(MemoryMarshal.TryGetArray(message, out var segment));
            first ??= segment.Array;
            Assert.Same(first, segment.Array);
        }

        foreach (var session in sessions)
            await session.DisposeAsync().AsTask().WaitAsync(s_timeout);
    }

    [Fact]
    public async Task Each_wire_format_gets_its_own_framing_of_the_same_publication()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var json = new TestTransport(WireFormat.Json);
        var sse = new TestTransport(WireFormat.Sse);
        var ndjson = new TestTransport(WireFormat.Ndjson);
        await using var a = new Session(json, hub);
        await using var b = new Session(sse, hub);
        await using var c = new Session(ndjson, hub);
        foreach (var session in new[] { a, b, c })
            await session.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:lobby", 1);
        await json.WaitForMessagesAsync(1);
        await sse.WaitForMessagesAsync(1);
        await ndjson.WaitForMessagesAsync(1);

        var jsonText = Encoding.UTF8.GetString(json.Messages[0].Span);
        var sseText = Encoding.UTF8.GetString(sse.Messages[0].Span);
        var ndjsonText = Encoding.UTF8.GetString(ndjson.Messages[0].Span);
        Assert.StartsWith("{\"type\":\"publication\",\"channel\":\"chat:lobby\",\"offset\":1,", jsonText, StringComparison.Ordinal);
        Assert.EndsWith(",\"data\":{\"n\":0}}", jsonText, StringComparison.Ordinal);
        Assert.Equal(jsonText + "\n", ndjsonText);
        Assert.Equal($"event: publication\ndata: {jsonText}\n\n", sseText);
    }

    [Fact]
    public async Task The_writer_coalesces_everything_queued_into_one_write()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        await session.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        transport.Pause();
        await log.PublishAsync("chat:lobby", 1);
        await transport.WriteStarted.Task.WaitAsync(s_timeout);
        await log.PublishAsync("chat:lobby", 99);
        transport.Resume();

        await transport.WaitForMessagesAsync(100);
        // The first message is in the write that was paused; the other 99 wait and go in one batch.
        Assert.Equal(2, transport.Batches.Count);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), transport.Offsets("chat:lobby"));
    }

    [Fact]
    public async Task Control_messages_share_the_queue_and_order_with_publications()
    {
        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var transport = new TestTransport();
        await using var session = new Session(transport, hub);
        await session.SubscribeAsync("chat:lobby", null, log).AsTask().WaitAsync(s_timeout);

        Assert.True(session.TrySend("{\"type\":\"pong\"}"u8.ToArray()));
        await log.PublishAsync("chat:lobby", 1);

        await transport.WaitForMessagesAsync(2);
        Assert.Equal("{\"type\":\"pong\"}", Encoding.UTF8.GetString(transport.Messages[0].Span));
        Assert.Equal([1L], transport.Offsets("chat:lobby"));
    }
}
