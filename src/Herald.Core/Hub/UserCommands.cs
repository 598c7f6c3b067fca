using System.Buffers;
using System.Text.Json;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>What the server API asks every node to do to one user's sessions.</summary>
public enum UserCommandKind
{
    /// <summary>Close every session of the user.</summary>
    Disconnect,

    /// <summary>Unsubscribe every session of the user from one channel; the connections stay open.</summary>
    Unsubscribe,
}

/// <summary>One command to every node.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="User">The token's <c>sub</c> whose sessions it concerns.</param>
/// <param name="Channel">For <see cref="UserCommandKind.Unsubscribe"/>: the channel.</param>
/// <param name="Reconnect">For <see cref="UserCommandKind.Disconnect"/>: whether the clients are told to reconnect.</param>
public sealed record UserCommand(UserCommandKind Kind, string User, string? Channel = null, bool Reconnect = false);

/// <summary>
/// Carries <see cref="UserCommand"/>s to every node, this one included, over the engine's broker:
/// each node subscribes <see cref="Node.ControlChannel"/> at start, and a command is one ephemeral
/// event on it. The in-process broker hands it straight back; Redis carries it to every node by
/// pub/sub, so a command reaches the nodes whose subscription connection is up at that moment.
/// </summary>
/// <remarks>
/// One broker channel for the whole deployment, instead of one per user: a node would otherwise
/// have to subscribe a channel per connected user (a Redis SUBSCRIBE per login), and commands are
/// rare — an operator's or an application's decision, not traffic.
/// </remarks>
public sealed class UserCommands
{
    private const string DisconnectKind = "user.disconnect";
    private const string UnsubscribeKind = "user.unsubscribe";

    private readonly IBroker _broker;

    public UserCommands(IBroker broker, Node node)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(node);
        _broker = broker;
        node.ControlHandler = OnControl;
    }

    /// <summary>What this node does with a command (the transports' sessions); called on the thread pool.</summary>
    public Action<UserCommand>? Handler { get; set; }

    /// <summary>Subscribes this node to the commands; completes once the broker confirmed it.</summary>
    private readonly Lock _listenLock = new();
    private Task? _listening;

    public ValueTask StartAsync(CancellationToken cancellationToken = default) =>
        _broker.SubscribeAsync(Node.ControlChannel, cancellationToken);

    /// <summary>
    /// Listens to the other nodes' commands from the first user session on: a node without user
    /// sessions has nothing to disconnect or unsubscribe, and holds no control subscription.
    /// Completes once the broker confirmed it (at once after the first time), so a client that got
    /// its first reply is reachable by a command sent after it. A failure (the engine is down) is
    /// not the session's: the next user session tries again.
    /// </summary>
    public async ValueTask EnsureListeningAsync(CancellationToken cancellationToken = default)
    {
        Task listening;
        lock (_listenLock)
        {
            if (_listening is null || _listening.IsFaulted || _listening.IsCanceled)
                _listening = StartAsync(CancellationToken.None).AsTask();
            listening = _listening;
        }

        if (listening.IsCompletedSuccessfully)
            return;
        try
        {
            await listening.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EngineUnavailableException or TimeoutException)
        {
        }
    }

    /// <summary>Sends <paramref name="command"/> to every node. Throws <see cref="EngineUnavailableException"/> when the broker cannot be reached.</summary>
    public ValueTask SendAsync(UserCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var kind = command.Kind == UserCommandKind.Disconnect ? DisconnectKind : UnsubscribeKind;
        return _broker.PublishEventAsync(new ChannelEvent(Node.ControlChannel, kind, Encode(command)), cancellationToken);
    }

    private void OnControl(ChannelEvent channelEvent)
    {
        // Another kind is a command of a newer node (a rolling upgrade): not this one's to act on.
        if (Handler is not { } handler || !TryDecode(channelEvent, out var command))
            return;

        // Off the broker's thread: the handler walks this node's connections.
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Handler(state.Command), (Handler: handler, Command: command), preferLocal: false);
    }

    private static byte[] Encode(UserCommand command)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("user"u8, command.User);
            if (command.Kind == UserCommandKind.Unsubscribe)
                writer.WriteString("channel"u8, command.Channel);
            else
                writer.WriteBoolean("reconnect"u8, command.Reconnect);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal static bool TryDecode(ChannelEvent channelEvent, out UserCommand command)
    {
        command = null!;
        UserCommandKind kind;
        if (string.Equals(channelEvent.Kind, DisconnectKind, StringComparison.Ordinal))
            kind = UserCommandKind.Disconnect;
        else if (string.Equals(channelEvent.Kind, UnsubscribeKind, StringComparison.Ordinal))
            kind = UserCommandKind.Unsubscribe;
        else
            return false;

        string? user = null, channel = null;
        var reconnect = false;
        try
        {
            var reader = new Utf8JsonReader(channelEvent.Payload.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "user" when reader.TokenType == JsonTokenType.String:
                        user = reader.GetString();
                        break;
                    case "channel" when reader.TokenType == JsonTokenType.String:
                        channel = reader.GetString();
                        break;
                    case "reconnect" when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                        reconnect = reader.GetBoolean();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        if (string.IsNullOrEmpty(user) || (kind == UserCommandKind.Unsubscribe && string.IsNullOrEmpty(channel)))
            return false;
        command = new UserCommand(kind, user, channel, reconnect);
        return true;
    }
}
