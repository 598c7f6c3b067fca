using System.Text;
using Herald.Engine;

namespace Herald.Tests.Hub;

/// <summary>
/// A minimal in-memory <see cref="IChannelLog"/> for hub tests: appends and the sink call happen
/// under one lock (offset order per channel, as the contract requires), history is trimmed to
/// <c>Retention.HistorySize</c>, and <see cref="BeforeRead"/> lets a test publish between a
/// subscribe's registration and its history read.
/// </summary>
internal sealed class TestChannelLog(IPublicationSink? sink = null) : IChannelLog
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ChannelData> _channels = new(StringComparer.Ordinal);
    private int _epochs;

    /// <summary>Runs before every <see cref="ReadAsync"/>.</summary>
    public Func<string, ReadRequest, ValueTask>? BeforeRead { get; set; }

    public int Reads { get; private set; }

    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_channels.TryGetValue(request.Channel, out var data))
                _channels[request.Channel] = data = new ChannelData($"e{++_epochs}");

            var publication = new Publication
            {
                Channel = request.Channel,
                Offset = ++data.Top,
                Epoch = data.Epoch,
                Id = Guid.CreateVersion7().ToString("N"),
                Time = DateTimeOffset.UtcNow,
                From = request.From,
                Type = request.Type,
                Data = request.Data.ToArray(),
            };
            data.Retained.Add(publication);
            if (data.Retained.Count > request.Retention.HistorySize)
                data.Retained.RemoveRange(0, data.Retained.Count - request.Retention.HistorySize);

            sink?.OnPublished(publication);
            return ValueTask.FromResult(new AppendResult(publication, false));
        }
    }

    public async ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default)
    {
        if (BeforeRead is { } hook)
            await hook(channel, request);

        lock (_lock)
        {
            Reads++;
            if (!_channels.TryGetValue(channel, out var data))
                return new ReadResult([], StreamState.Empty);

            var page = data.Retained.Where(p => p.Offset > request.After).Take(request.Limit).ToList();
            return new ReadResult(page, State(data));
        }
    }

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            return ValueTask.FromResult(_channels.TryGetValue(channel, out var data) ? State(data) : StreamState.Empty);
    }

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            _channels.Remove(channel);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Appends <paramref name="count"/> publications <c>{"n":i}</c>.</summary>
    public async Task PublishAsync(string channel, int count, int historySize = 100_000, int payloadBytes = 0)
    {
        var retention = Retention.Default with { HistorySize = historySize };
        var padding = new string('x', payloadBytes);
        for (var i = 0; i < count; i++)
        {
            var data = Encoding.UTF8.GetBytes(payloadBytes == 0 ? $"{{\"n\":{i}}}" : $"{{\"n\":{i},\"pad\":\"{padding}\"}}");
            await AppendAsync(new AppendRequest(channel, data, retention));
        }
    }

    private static StreamState State(ChannelData data) =>
        new(data.Epoch, data.Top, data.Retained.Count == 0 ? data.Top + 1 : data.Retained[0].Offset);

    private sealed class ChannelData(string epoch)
    {
        public string Epoch { get; } = epoch;

        public long Top { get; set; }

        public List<Publication> Retained { get; } = [];
    }
}
