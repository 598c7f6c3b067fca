using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Herald.Chaos.SignalR;

/// <summary>One message as received: its channel and publication number, or a fence (<see cref="Number"/> = -round).</summary>
internal readonly record struct Reception(int Channel, int Number)
{
    public bool IsFence => Number < 0;
}

/// <summary>
/// One SignalR connection of a subscriber, from connect to close: when each Join completed, what
/// arrived in order, and when the client saw the connection close. Times are
/// <see cref="Stopwatch.GetTimestamp"/> of this process.
/// </summary>
internal sealed class SignalRSession
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, long> _joinedAt = [];
    private readonly List<Reception> _received = [];
    private long _closedAt = long.MaxValue;

    public long ClosedAt => Interlocked.Read(ref _closedAt);

    public bool IsOpen => ClosedAt == long.MaxValue;

    public int JoinedCount
    {
        get
        {
            lock (_lock)
                return _joinedAt.Count;
        }
    }

    public IReadOnlyDictionary<int, long> JoinedAt
    {
        get
        {
            lock (_lock)
                return new Dictionary<int, long>(_joinedAt);
        }
    }

    public IReadOnlyList<Reception> Received
    {
        get
        {
            lock (_lock)
                return [.. _received];
        }
    }

    public void Joined(int channel)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
            _joinedAt[channel] = now;
    }

    public void Add(Reception reception)
    {
        lock (_lock)
            _received.Add(reception);
    }

    /// <summary>The first call wins: the moment the client learned the connection was gone.</summary>
    public void Close() => Interlocked.CompareExchange(ref _closedAt, Stopwatch.GetTimestamp(), long.MaxValue);
}

/// <summary>
/// A subscriber on the .NET SignalR client: connects through the proxy (WebSockets, no
/// negotiate), invokes <c>Join</c> for each of its channels, and when the connection closes,
/// connects again (after 100–400 ms, as Herald's chaos subscribers do) — through the proxy, so to
/// another node — and joins again. SignalR has nothing to resume from: whatever was published
/// between the close and the new Joins is simply not delivered, and nothing says so.
/// </summary>
internal sealed class SignalRSubscriber(string name, Uri proxy, IReadOnlyList<int> channels)
{
    private readonly List<SignalRSession> _sessions = [];
    private readonly ConcurrentDictionary<int, byte> _fenced = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _reconnects;
    private long _unexpected;

    public string Name { get; } = name;

    public IReadOnlyList<int> Channels { get; } = channels;

    /// <summary>Set once the first connection has joined every channel.</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Messages of a channel this subscriber never joined, or that did not parse (expected: 0).</summary>
    public long Unexpected => Interlocked.Read(ref _unexpected);

    /// <summary>Why connections ended or failed, by exception type.</summary>
    public IReadOnlyDictionary<string, long> Errors => _errors;

    public IReadOnlyList<SignalRSession> Sessions
    {
        get
        {
            lock (_sessions)
                return [.. _sessions];
        }
    }

    /// <summary>Connected now, with every channel joined on the current connection.</summary>
    public bool IsLive
    {
        get
        {
            lock (_sessions)
                return _sessions.Count > 0 && _sessions[^1].IsOpen && _sessions[^1].JoinedCount == Channels.Count;
        }
    }

    /// <summary>Whether a fence (see <see cref="SignalRChaosRun"/>) of this channel arrived.</summary>
    public bool HasFence(int channel) => _fenced.ContainsKey(channel);

    public async Task RunAsync(CancellationToken stopping)
    {
        var hub = new Uri(proxy, "hub");
        while (!stopping.IsCancellationRequested)
        {
            var session = new SignalRSession();
            lock (_sessions)
                _sessions.Add(session);
            var connection = new HubConnectionBuilder()
                .WithUrl(hub, HttpTransportType.WebSockets, o => o.SkipNegotiation = true)
                .Build();
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += error =>
            {
                session.Close();
                Count(error);
                closed.TrySetResult();
                return Task.CompletedTask;
            };
            connection.On<string>("m", payload => OnMessage(session, payload));
            try
            {
                using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    connecting.CancelAfter(TimeSpan.FromSeconds(15));
                    await connection.StartAsync(connecting.Token);
                    await Task.WhenAll(Channels.Select(async channel =>
                    {
                        if (await connection.InvokeAsync<bool>("Join", SignalRPublishers.Group(channel), connecting.Token))
                            session.Joined(channel);
                    }));
                }

                if (session.JoinedCount == Channels.Count)
                    Ready.TrySetResult();
                await closed.Task.WaitAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // A measurement goes on whatever ended a connection; the reasons are counted.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Count(e);
            }
            finally
            {
                session.Close();
                await connection.DisposeAsync();
            }

            if (stopping.IsCancellationRequested)
                return;
            Interlocked.Increment(ref _reconnects);
            await Task.Delay(Random.Shared.Next(100, 400), CancellationToken.None);
        }
    }

    private void OnMessage(SignalRSession session, string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            var channel = root.GetProperty("c").GetInt32();
            var fence = root.TryGetProperty("f", out var round);
            var reception = new Reception(channel, fence ? -round.GetInt32() : root.GetProperty("n").GetInt32());
            if (!Channels.Contains(channel))
            {
                Interlocked.Increment(ref _unexpected);
                return;
            }

            session.Add(reception);
            if (fence)
                _fenced.TryAdd(channel, 0);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            Interlocked.Increment(ref _unexpected);
        }
    }

    private void Count(Exception? error)
    {
        if (error is not null)
            _errors.AddOrUpdate(error.GetType().Name, 1, (_, n) => n + 1);
    }
}
