namespace Herald.Client;

/// <summary>A connection attempt starts.</summary>
/// <param name="Transport">The transport being opened.</param>
/// <param name="Attempt">Attempts since the last open connection, from 1.</param>
public sealed record ConnectingEvent(HeraldTransport Transport, int Attempt);

/// <summary>A transport is open.</summary>
/// <param name="Transport">The transport.</param>
public sealed record ConnectedEvent(HeraldTransport Transport);

/// <summary>The connection closed or failed to open.</summary>
/// <param name="Transport">The transport it was on.</param>
/// <param name="Reason">Why, for people.</param>
/// <param name="Code">The WebSocket close code or the <c>code</c> of an SSE/stream <c>disconnect</c> (3001 shutdown, 3008 slow, 3011 idle, …), when the server gave one.</param>
/// <param name="RetryIn">How long until the next attempt; null when the client will not reconnect by itself (a close the protocol says not to retry, or the client was disposed).</param>
public sealed record DisconnectedEvent(HeraldTransport? Transport, string Reason, int? Code, TimeSpan? RetryIn);

/// <summary>The server confirmed a subscription on a connection (the first time, and after every reconnect).</summary>
/// <param name="Transport">The connection's transport.</param>
/// <param name="Position">Where the subscription stands now.</param>
/// <param name="Recovered">False: the position was gone (see <see cref="ResetEvent"/>).</param>
public sealed record SubscribedEvent(HeraldTransport Transport, Position Position, bool Recovered);

/// <summary>
/// The subscription's position could not be resumed (the history was trimmed, the memory store restarted):
/// publications between <see cref="Previous"/> and <see cref="Position"/> are gone. Reload the channel's
/// state (e.g. with <see cref="HeraldClient.HistoryAsync{T}(string, HistoryOptions?, CancellationToken)"/>); delivery continues after <see cref="Position"/>.
/// </summary>
/// <param name="Transport">The connection's transport.</param>
/// <param name="Position">The channel's current epoch and newest offset.</param>
/// <param name="Previous">The position the client had.</param>
public sealed record ResetEvent(HeraldTransport Transport, Position Position, Position? Previous);

/// <summary>The server's API unsubscribed the user from a subscription's channel; the connection stays open.</summary>
/// <param name="Transport">The connection's transport.</param>
/// <param name="Reason">Why: <c>server unsubscribe</c>.</param>
public sealed record UnsubscribedEvent(HeraldTransport Transport, string Reason);
