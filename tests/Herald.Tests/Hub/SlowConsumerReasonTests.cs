using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Herald.Diagnostics;
using Herald.Hub;
using Microsoft.Extensions.Logging;

namespace Herald.Tests.Hub;

/// <summary>
/// A WebSocket client that stops reading sees 1006, not the 3008 close frame (it cannot arrive
/// through a full socket buffer), so the reason must be observable on the server: a metric tagged
/// with the transport and a log event naming the transport and the channel that overflowed.
/// </summary>
public sealed class SlowConsumerReasonTests
{
    private static readonly TimeSpan s_timeout = TestTransport.Timeout;

    [Fact]
    public async Task A_slow_consumer_close_is_counted_by_transport_and_logged_with_the_channel()
    {
        var measurements = new ConcurrentQueue<(long Value, string? Transport)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == HeraldMetrics.MeterName && instrument.Name == "herald.session.slow_consumer_disconnects")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? transport = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "transport")
                    transport = tag.Value as string;
            }

            measurements.Enqueue((value, transport));
        });
        listener.Start();

        var hub = new ChannelHub();
        var log = new TestChannelLog(hub);
        var logger = new ListLogger();
        var transport = new TestTransport { NeverDrain = true, Transport = "sse-slow-test" };
        var session = new Session(transport, hub, new HeraldOptions { MaxQueuedBytesPerSession = 4096 }, logger);
        await session.SubscribeAsync("chat:quiet", null, log).AsTask().WaitAsync(s_timeout);
        await session.SubscribeAsync("chat:busy", null, log).AsTask().WaitAsync(s_timeout);

        await log.PublishAsync("chat:busy", 100, payloadBytes: 200);
        await session.Completion.WaitAsync(s_timeout);

        Assert.Equal(DisconnectReason.SlowConsumer, session.CloseReason);
        Assert.Contains(measurements, m => m.Value == 1 && m.Transport == "sse-slow-test");
        var entry = Assert.Single(logger.Entries, e => e.EventId == 1100);
        Assert.Equal("sse-slow-test", entry.State["Transport"]);
        Assert.Equal("chat:busy", entry.State["Channel"]);
        Assert.Equal(4096, entry.State["MaxQueuedBytes"]);
    }

    private sealed class ListLogger : ILogger<Session>
    {
        public ConcurrentQueue<(int EventId, Dictionary<string, object?> State)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = (state as IReadOnlyList<KeyValuePair<string, object?>> ?? []).ToDictionary(p => p.Key, p => p.Value);
            Entries.Enqueue((eventId.Id, values));
        }
    }
}
