using System.Buffers;
using System.Text.Json;
using Herald.Hub;
using Herald.Transports.Push;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Transports;

/// <summary>
/// This node's part of <c>POST /v1/users/{user}/disconnect</c> and <c>…/unsubscribe</c>: listens
/// for <see cref="UserCommand"/>s from the broker (every node gets every command, whichever node
/// the request reached) and applies each to the user's open connections here — WebSocket, SSE and
/// HTTP streaming. Long polls hold no session: a command does not reach them.
/// </summary>
/// <remarks>
/// Commands are rare, so the user's connections are found by walking this node's connections
/// (15,000 of them in well under a millisecond) rather than by a per-user index that every
/// connect and disconnect would pay for.
/// </remarks>
internal sealed partial class UserControl(UserCommands commands, ConnectionRegistry registry, ILogger<UserControl> logger) : IHostedService, IDisposable
{
    /// <summary>The <c>reason</c> of an <c>unsubscribed</c> message the server sent on its own (docs/protocol.md).</summary>
    public const string ServerUnsubscribeReason = "server unsubscribe";

    // 1 s: the broker (Redis) was unreachable at start; try again until it answers.
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        commands.Handler = Apply;

        // Awaited, so a node serves requests only once it hears commands; an unreachable engine
        // does not stop the start (the other parts report it), the subscription is retried.
        try
        {
            await commands.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.ListenFailed(logger, e);
            _ = RetryAsync(_stopping.Token);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => _stopping.CancelAsync();

    public void Dispose() => _stopping.Dispose();

    /// <summary>Applies <paramref name="command"/> to this node's connections of its user.</summary>
    internal void Apply(UserCommand command)
    {
        var count = 0;
        foreach (var connection in registry.Connections)
        {
            var session = connection.Session;
            if (!string.Equals(session.User, command.User, StringComparison.Ordinal) || session.CloseReason is not null)
                continue;

            if (command.Kind == UserCommandKind.Disconnect)
            {
                count++;
                _ = session.CloseAsync(command.Reconnect ? DisconnectReason.ForceReconnect : DisconnectReason.ForceDisconnect);
            }
            else if (session.Unsubscribe(command.Channel!))
            {
                // Queued after the channel's last publication on this session: nothing of it follows.
                count++;
                session.TrySend(session.Format == WireFormat.Json ? WebSocketNotice(command.Channel!) : UnsubscribedNotice.For(command.Channel!));
            }
        }

        Log.Applied(logger, command.Kind, command.User, command.Channel ?? string.Empty, count);
    }

    /// <summary><c>{"type":"unsubscribed","channel":"…","reason":"server unsubscribe"}</c>: no <c>id</c>, the client asked nothing.</summary>
    private static ReadOnlyMemory<byte> WebSocketNotice(string channel)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "unsubscribed"u8);
            writer.WriteString("channel"u8, channel);
            writer.WriteString("reason"u8, ServerUnsubscribeReason);
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(s_retryDelay, cancellationToken).ConfigureAwait(false);
                await commands.StartAsync(cancellationToken).ConfigureAwait(false);
                Log.Listening(logger);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Still unreachable: the engine's own log says so.
            }
        }
    }

    // 1540–1549: the per-user server API, on this node.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1540, Level = LogLevel.Information, EventName = "UserCommandApplied",
            Message = "{Kind} of user {User} {Channel}: {Count} session(s) on this node.")]
        public static partial void Applied(ILogger logger, UserCommandKind kind, string user, string channel, int count);

        [LoggerMessage(EventId = 1541, Level = LogLevel.Warning, EventName = "UserCommandsUnavailable",
            Message = "Could not subscribe to the user commands (disconnect, unsubscribe) of other nodes; retrying every second.")]
        public static partial void ListenFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1542, Level = LogLevel.Information, EventName = "UserCommandsListening",
            Message = "Subscribed to the user commands of other nodes.")]
        public static partial void Listening(ILogger logger);
    }
}
