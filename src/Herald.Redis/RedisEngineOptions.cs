namespace Herald.Redis;

/// <summary>The Redis engine's settings, bound from <c>Herald:Redis</c>.</summary>
public sealed class RedisEngineOptions
{
    public const string Section = "Herald:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string: <c>localhost:6379</c>, with options
    /// (<c>password=…,ssl=true</c>), or a Sentinel setup (<c>sentinel1:26379,serviceName=mymaster</c>).
    /// </summary>
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>The first part of every key and pub/sub channel: several deployments can share one Redis with different prefixes.</summary>
    public string Prefix { get; set; } = "herald";

    /// <summary>
    /// Partitions of the key space, each with its own <c>{hash tag}</c>, era and write counter; part
    /// of the data's layout, so every node of a deployment must use the same number (checked at
    /// start). 128: enough to spread one Redis Cluster's slots across nodes, few enough that a
    /// restart check touches each one in one call.
    /// </summary>
    public int Partitions { get; set; } = 128;

    /// <summary>
    /// How long a channel's meta (epoch, top offset) outlives its last append. 30 days: offsets go on
    /// in the same epoch after a quiet month; after that the channel starts a new epoch (clients that
    /// still hold a position are told to reset, never silently).
    /// </summary>
    public TimeSpan MetaTtl { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Appends of one partition sent in one script call at most (the rest wait for the next call).</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// Script calls of one partition in flight at once. 2: while one waits for Redis (and, with
    /// <c>appendfsync always</c>, its fsync), the appends that arrive meanwhile go out at once and
    /// share the next fsync instead of waiting a whole round for it (docs/benchmarks.md). Redis runs
    /// one connection's calls in the order sent, so appends keep their order.
    /// </summary>
    public int MaxCallsInFlight { get; set; } = 2;

    /// <summary>
    /// How long a node holds an outbound webhook delivery it took for an attempt (renewed every third
    /// of it while it holds it), and how long an outbox entry may stay pending in a node's consumer
    /// before another node takes it over (XAUTOCLAIM). When a node dies, its deliveries are sent by
    /// another node after at most this long. 30 s: twice the default
    /// <c>Herald:Webhooks:Outbound:AttemptTimeout</c>, which it must exceed.
    /// </summary>
    public TimeSpan WebhookLease { get; set; } = TimeSpan.FromSeconds(30);

    internal IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Configuration))
            yield return "Herald:Redis:Configuration must name a Redis server (e.g. localhost:6379).";
        if (string.IsNullOrEmpty(Prefix) || Prefix.Any(c => c is '{' or '}' or ' ' or ':'))
            yield return "Herald:Redis:Prefix must be non-empty without '{', '}', ':' or spaces.";
        if (Partitions is < 1 or > 16_384)
            yield return "Herald:Redis:Partitions must be from 1 to 16384.";
        if (MetaTtl < TimeSpan.FromMinutes(1))
            yield return "Herald:Redis:MetaTtl must be at least one minute.";
        if (MaxBatchSize is < 1 or > 10_000)
            yield return "Herald:Redis:MaxBatchSize must be from 1 to 10000.";
        if (MaxCallsInFlight is < 1 or > 64)
            yield return "Herald:Redis:MaxCallsInFlight must be from 1 to 64.";
        if (WebhookLease < TimeSpan.FromMilliseconds(300) || WebhookLease > TimeSpan.FromHours(1))
            yield return "Herald:Redis:WebhookLease must be from 00:00:00.3 to 01:00:00.";
    }
}
