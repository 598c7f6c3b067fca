namespace Herald.Engine;

/// <summary>
/// Implemented by a log that can read many channels' states in one go (one read transaction, one
/// round trip) faster than one <see cref="IChannelLog.GetStateAsync"/> each; unread counts read
/// hundreds at once. <see cref="ChannelLogExtensions.GetStatesAsync"/> uses it when it is there.
/// </summary>
public interface IChannelStates
{
    /// <summary>The states of <paramref name="channels"/>, in the same order (<see cref="StreamState.Empty"/> for a channel never written).</summary>
    ValueTask<StreamState[]> GetStatesAsync(IReadOnlyList<string> channels, CancellationToken cancellationToken = default);
}
