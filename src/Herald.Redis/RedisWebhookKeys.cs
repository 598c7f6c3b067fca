using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The webhook store's keys, all under one <c>{w}</c> hash tag (one Redis Cluster slot), beside
/// the partitions' own <c>P:{p}:subv</c> and <c>P:{p}:o</c> (<see cref="RedisKeys"/>).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>P:{w}:subs</c></term><description>hash: subscription id → its JSON.</description></item>
/// <item><term><c>P:{w}:subv</c></term><description>the subscriptions' version (also copied into every partition's <c>subv</c>).</description></item>
/// <item><term><c>P:{w}:id</c></term><description>the last delivery id (INCR).</description></item>
/// <item><term><c>P:{w}:all</c></term><description>sorted set of every delivery id (score = id): listing and the retention sweep.</description></item>
/// <item><term><c>P:{w}:d:&lt;id&gt;</c>, <c>P:{w}:a:&lt;id&gt;</c></term><description>a delivery (see <see cref="RedisWebhookScripts"/>); its attempts, number → text.</description></item>
/// <item><term><c>P:{w}:s:&lt;sub&gt;:all | :due | :p</c></term><description>a subscription's deliveries by id; its pending ones by the time they may be taken; its pending ones by id (an ordered subscription's head).</description></item>
/// <item><term><c>P:subs:changed</c></term><description>pub/sub: a node changed the subscriptions (message: node, newline, version).</description></item>
/// </list>
/// </remarks>
internal sealed class RedisWebhookKeys
{
    public RedisWebhookKeys(string prefix)
    {
        Prefix = prefix + ":{w}:";
        Subscriptions = Prefix + "subs";
        Version = Prefix + "subv";
        NextId = Prefix + "id";
        All = Prefix + "all";
        ChangedName = prefix + ":subs:changed";
        Changed = RedisChannel.Literal(ChangedName);
    }

    /// <summary>What the scripts put before <c>d:</c>, <c>a:</c> and <c>s:</c>.</summary>
    public string Prefix { get; }

    public RedisKey Subscriptions { get; }

    public RedisKey Version { get; }

    public RedisKey NextId { get; }

    public RedisKey All { get; }

    public string ChangedName { get; }

    public RedisChannel Changed { get; }

    public RedisKey SubscriptionAll(string subscription) => Prefix + "s:" + subscription + ":all";

    public RedisKey Due(string subscription) => Prefix + "s:" + subscription + ":due";

    public RedisKey Pending(string subscription) => Prefix + "s:" + subscription + ":p";
}
