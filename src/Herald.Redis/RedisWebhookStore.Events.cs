using Herald.Webhooks;
using Herald.Webhooks.Outbound;
using StackExchange.Redis;

namespace Herald.Redis;

internal sealed partial class RedisWebhookStore
{
    // A stale answer means another node changed the subscriptions in between: reload and match
    // again. 4 rounds: subscriptions changed that often within milliseconds is a storm, not a race.
    private const int EnqueueRounds = 4;

    /// <summary>
    /// Writes each event into its channel's partition outbox stream, one entry per subscription it
    /// matches, in one script per partition that first checks the partition's subscriptions version
    /// (<see cref="RedisWebhookScripts.EnqueueEvents"/>): the same guarantee as an append's, a
    /// subscription made before the call is matched and one removed is not. The entries become
    /// deliveries like a publication's (the pump, at once on this node).
    /// </summary>
    public async ValueTask<int> EnqueueEventsAsync(IReadOnlyList<WebhookEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var made = 0;
        foreach (var group in events.GroupBy(e => _keys.PartitionOf(e.Channel)))
            made += await EnqueuePartitionAsync(group.Key, [.. group], cancellationToken).ConfigureAwait(false);
        return made;
    }

    private async Task<int> EnqueuePartitionAsync(int partition, List<WebhookEvent> events, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [_keys.SubscriptionVersion(partition), _keys.Outbox(partition)];
        var matches = new List<WebhookSubscription>();
        for (var round = 0; round < EnqueueRounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var loaded = _loaded;
            var values = new List<RedisValue> { loaded.Version, NowMs() };
            foreach (var e in events)
            {
                matches.Clear();
                loaded.Routes.Match(e.Type, e.Channel, matches);
                foreach (var subscription in matches)
                    values.AddRange([subscription.Id, e.Type, e.Channel, e.Id, e.Body]);
            }

            // Sent even when nothing matched here: this node's subscriptions may be the stale ones.
            var made = (long)await Db.ScriptEvaluateAsync(RedisWebhookScripts.EnqueueEvents, keys, [.. values]).ConfigureAwait(false);
            if (made >= 0)
            {
                if (made > 0)
                    MarkDirty(partition, wake: true);
                return (int)made;
            }

            await ReloadAsync().ConfigureAwait(false);
        }

        throw new InvalidOperationException("The webhook subscriptions kept changing while presence events were being queued.");
    }
}
