using Microsoft.Extensions.Logging;

namespace Herald.Hub;

public sealed partial class Node
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1900, Level = LogLevel.Warning, EventName = "FollowFailed",
            Message = "Following channel '{Channel}' failed (broker subscribe or top read); its subscribers get an error and may retry.")]
        public static partial void FollowFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 1901, Level = LogLevel.Warning, EventName = "UnsubscribeFailed",
            Message = "Unsubscribing the broker from channel '{Channel}' failed.")]
        public static partial void UnsubscribeFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 1902, Level = LogLevel.Warning, EventName = "TopCheckFailed",
            Message = "Reading the top of channel '{Channel}' failed; the next check tries again.")]
        public static partial void TopCheckFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 1903, Level = LogLevel.Warning, EventName = "RepairFailed",
            Message = "Reading offsets {After}+1..{UpTo} of channel '{Channel}' to fill a gap failed; the next check tries again.")]
        public static partial void RepairFailed(ILogger logger, string channel, long after, long upTo, Exception exception);

        [LoggerMessage(EventId = 1904, Level = LogLevel.Warning, EventName = "ChannelReset",
            Message = "Channel '{Channel}' lost history ({OldEpoch}:{OldOffset} → {NewEpoch}:{NewOffset}): its local readers are reset.")]
        public static partial void ChannelReset(ILogger logger, string channel, string oldEpoch, long oldOffset, string newEpoch, long newOffset);

        [LoggerMessage(EventId = 1905, Level = LogLevel.Error, EventName = "DispatchFailed",
            Message = "Dispatching on channel '{Channel}' failed; it is re-checked on the next tick.")]
        public static partial void DispatchFailed(ILogger logger, string channel, Exception exception);

        [LoggerMessage(EventId = 1906, Level = LogLevel.Error, EventName = "MaintenanceFailed",
            Message = "The node's maintenance tick failed.")]
        public static partial void MaintenanceFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1907, Level = LogLevel.Information, EventName = "BrokerReconnected",
            Message = "The broker reconnected: re-checking the tops of {Channels} channels.")]
        public static partial void BrokerReconnected(ILogger logger, int channels);
    }
}
