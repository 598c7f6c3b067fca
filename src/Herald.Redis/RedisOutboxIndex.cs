namespace Herald.Redis;

/// <summary>
/// What the append script needs from the webhook outbox: which subscriptions a channel's
/// publications go to, as of a version every partition stores (<c>P:{p}:subv</c>). The script refuses
/// a batch matched against another version, so a subscription created before a publish is always
/// matched by it and one removed never is — on every node.
/// </summary>
internal interface IRedisOutboxIndex
{
    /// <summary>The subscriptions this node knows, with their version ("" before any was created).</summary>
    RedisOutboxSnapshot Current { get; }

    /// <summary>Loads the current subscriptions and version (after the script said the snapshot is stale).</summary>
    Task ReloadAsync();
}

/// <param name="Version">The version stored in every partition when these subscriptions were written.</param>
/// <param name="Match">The ids of the enabled subscriptions whose patterns match a channel (empty for none).</param>
internal sealed record RedisOutboxSnapshot(string Version, Func<string, IReadOnlyList<string>> Match)
{
    public static RedisOutboxSnapshot None { get; } = new(string.Empty, static _ => []);
}
