using Herald.Auth;
using Herald.Engine;
using Herald.Hub;
using Herald.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Transports.WebSocket;

/// <summary>What every WebSocket connection of this node shares; one instance, so a connection holds one reference.</summary>
internal sealed class WebSocketServices(
    ChannelHub hub,
    IChannelLog log,
    IOptions<HeraldOptions> options,
    ConnectionRegistry registry,
    Authenticator authenticator,
    TimeProvider time,
    PublishService publisher,
    SignalService signals,
    Presence.PresenceService presence,
    Typing.TypingService typing,
    UserCommands userCommands,
    Reading.UnreadService unread,
    SummaryHub summaries,
    Receipts.ReceiptService receipts,
    ILoggerFactory loggers)
{
    public Receipts.ReceiptService Receipts { get; } = receipts;

    public SummaryHub Summaries { get; } = summaries;

    public Reading.UnreadService Unread { get; } = unread;

    public UserCommands UserCommands { get; } = userCommands;

    public Typing.TypingService Typing { get; } = typing;

    public Presence.PresenceService Presence { get; } = presence;

    public SignalService Signals { get; } = signals;

    public PublishService Publisher { get; } = publisher;

    public ChannelHub Hub { get; } = hub;

    public IChannelLog Log { get; } = log;

    public HeraldOptions Options { get; } = options.Value;

    public ConnectionRegistry Registry { get; } = registry;

    public Authenticator Authenticator { get; } = authenticator;

    public TimeProvider Time { get; } = time;

    public ILogger<Session> SessionLogger { get; } = loggers.CreateLogger<Session>();

    public ILogger Logger { get; } = loggers.CreateLogger<WebSocketConnection>();
}
