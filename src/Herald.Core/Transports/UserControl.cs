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
internal sealed partial class UserControl(UserCommands commands, ConnectionRegistry registry, ILogger<UserControl> logger) : IHostedService
{
    /// <summary>The <c>reason</c> of an <c>unsubscribed</c> message the server sent on its own (docs/protocol.md).</summary>
    public const string ServerUnsubscribeReason = "server unsubscribe";

    /// <summary>Takes the node's user commands; the broker subscription itself is made by the first user session (<see cref="UserCommands.EnsureListeningAsync"/>).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        commands.Handler = Apply;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

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

    // 1540–1549: the per-user server API, on this node.
    private static partial class Log
    {
        [LoggerMessage(EventId = 1540, Level = LogLevel.Information, EventName = "UserCommandApplied",
            Message = "{Kind} of user {User} {Channel}: {Count} session(s) on this node.")]
        public static partial void Applied(ILogger logger, UserCommandKind kind, string user, string channel, int count);

    }
}
