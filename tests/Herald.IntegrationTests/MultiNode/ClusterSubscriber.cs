using System.Collections.Concurrent;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.LongPoll;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.MultiNode;

/// <summary>One client on one node on one transport, recording every publication it receives.</summary>
internal sealed class ClusterSubscriber : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<long>> _offsets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IAsyncDisposable> _resources = [];
    private Task _running = Task.CompletedTask;

    private ClusterSubscriber(string name) => Name = name;

    public string Name { get; }

    public static async Task<ClusterSubscriber> StartAsync(TestServer node, string transport, string[] channels)
    {
        var subscriber = new ClusterSubscriber($"{transport}@{node.BaseAddress.Port}");
        await subscriber.ConnectAsync(node, transport, channels);
        return subscriber;
    }

    public List<long> OffsetsOf(string channel)
    {
        var list = _offsets.GetOrAdd(channel, _ => []);
        lock (list)
            return [.. list];
    }

    public async Task WaitForAsync(Dictionary<string, int> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (expected.Any(e => OffsetsOf(e.Key).Count < e.Value))
        {
            if (_running.IsFaulted)
                await _running;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{Name}: timed out with {string.Join(", ", expected.Select(e => $"{e.Key} {OffsetsOf(e.Key).Count}/{e.Value}"))}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var resource in _resources)
            await resource.DisposeAsync();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or HttpRequestException or IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // The loop ends by being cut off.
        }

        _stop.Dispose();
    }

    private void Record(string channel, long offset)
    {
        var list = _offsets.GetOrAdd(channel, _ => []);
        lock (list)
            list.Add(offset);
    }

    private async Task ConnectAsync(TestServer node, string transport, string[] channels)
    {
        switch (transport)
        {
            case "ws":
                var ws = await WsClient.ConnectAsync(node);
                _resources.Add(ws);
                foreach (var channel in channels)
                {
                    var reply = await ws.RequestAsync($$"""{"id":"{{channel}}","op":"subscribe","channel":"{{channel}}"}""");
                    Assert.Equal("subscribed", reply.GetProperty("type").GetString());
                }

                _running = Task.Run(async () =>
                {
                    while (!_stop.IsCancellationRequested)
                        Receive(await ws.ReceiveAsync());
                });
                break;
            case "sse" or "stream":
                var client = node.CreateClient();
                var push = await PushClient.ConnectAsync(client, transport, channels);
                _resources.Add(push);
                for (var i = 0; i < channels.Length; i++)
                    await push.ExpectAsync("subscribed");
                _running = Task.Run(async () =>
                {
                    using var owned = client;
                    while (!_stop.IsCancellationRequested && await push.ReadAsync() is { } message)
                    {
                        if (message.Type == "publication")
                            Record(message.Channel, message.Offset);
                    }
                });
                break;
            default:
                var poller = node.CreateClient();
                var cursor = (await poller.PollAsync(channels, wait: 0)).Cursor;
                _running = Task.Run(async () =>
                {
                    using var owned = poller;
                    while (!_stop.IsCancellationRequested)
                    {
                        var answer = await poller.PollAsync(channels, cursor, wait: 20, cancellationToken: _stop.Token);
                        foreach (var publication in answer.Publications)
                            Record(publication.GetProperty("channel").GetString()!, publication.GetProperty("offset").GetInt64());
                        cursor = answer.Cursor;
                    }
                });
                break;
        }
    }

    private void Receive(JsonElement message)
    {
        if (message.GetProperty("type").GetString() == "publication")
            Record(message.GetProperty("channel").GetString()!, message.GetProperty("offset").GetInt64());
    }
}
