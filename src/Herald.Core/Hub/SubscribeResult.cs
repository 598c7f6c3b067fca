using Herald.Engine;

namespace Herald.Hub;

/// <summary>The answer to <see cref="Session.SubscribeAsync(string, Position?, IChannelLog, CancellationToken)"/>.</summary>
/// <param name="Recovered">
/// True when every publication after the client's position was (or is being) delivered, so the client
/// may keep its state. False means "reset": the position's epoch is not the channel's current one, or
/// it fell out of retention, or it is ahead of the log. Then nothing from history is sent and
/// delivery starts live after <see cref="StreamState.Top"/>; the client reloads its state (e.g. reads
/// history itself) and continues from <see cref="StreamState.Position"/>.
/// </param>
/// <param name="State">The channel's epoch, newest and oldest offsets when the subscription went live.</param>
public readonly record struct SubscribeResult(bool Recovered, StreamState State);
