using System.Globalization;
using System.IO.Hashing;
using System.Text;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The engine's key layout. Every key of a channel carries its partition as a hash tag
/// (<c>herald:{17}:m:chat:lobby</c>), so the keys one script touches share a Redis Cluster slot.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>P:{p}:era</c></term><description>the partition's era: channel metas of another era are void (a new generation).</description></item>
/// <item><term><c>P:{p}:wc</c></term><description>the partition's write counter, one per append: a node that sees it go back knows Redis lost writes.</description></item>
/// <item><term><c>P:{p}:m:&lt;channel&gt;</c></term><description>hash: <c>e</c> epoch, <c>s</c> top offset, <c>r</c> era, <c>h</c> history size, <c>t</c> ttl ms.</description></item>
/// <item><term><c>P:{p}:s:&lt;channel&gt;</c></term><description>stream; entry id <c>&lt;offset&gt;-0</c>; fields t (time ms), i (id), f (from), y (type), m (meta), d (data).</description></item>
/// <item><term><c>P:{p}:k:&lt;channel&gt;:&lt;key&gt;</c></term><description>an idempotency key: epoch, offset, id, time, fingerprint, expiry.</description></item>
/// <item><term><c>P:{p}:p:&lt;channel&gt;</c></term><description>the channel's pub/sub channel.</description></item>
/// <item><term><c>P:runid</c>, <c>P:layout</c></term><description>the Redis run id the data was written under; the partition count.</description></item>
/// </list>
/// </remarks>
internal sealed class RedisKeys
{
    private readonly string[] _tags;

    public RedisKeys(string prefix, int partitions)
    {
        Prefix = prefix;
        Partitions = partitions;
        RunId = prefix + ":runid";
        Layout = prefix + ":layout";
        _tags = new string[partitions];
        for (var i = 0; i < partitions; i++)
            _tags[i] = prefix + ":{" + i.ToString(CultureInfo.InvariantCulture) + "}:";
    }

    public string Prefix { get; }

    public int Partitions { get; }

    public RedisKey RunId { get; }

    public RedisKey Layout { get; }

    /// <summary>The partition of a channel: FNV-1a would do as well; XxHash32 is in the framework's hashing package and spreads short names evenly.</summary>
    public int PartitionOf(string channel)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(channel.Length)];
        var length = Encoding.UTF8.GetBytes(channel, utf8);
        return (int)(XxHash32.HashToUInt32(utf8[..length]) % (uint)Partitions);
    }

    public RedisKey Era(int partition) => Tag(partition) + "era";

    /// <summary>A presence key of a channel: <c>st:</c>, <c>m:</c>, <c>c:</c> or <c>d:</c> (state, members, connections, diffs).</summary>
    public RedisKey Presence(int partition, string kind, string channel) => Tag(partition) + "pr:" + kind + channel;

    /// <summary>The partition's channels with a presence leave or lease due (score: the time, unix ms).</summary>
    public RedisKey PresenceTimed(int partition) => Tag(partition) + "pr:t";

    public RedisKey WriteCounter(int partition) => Tag(partition) + "wc";

    /// <summary>The webhook subscriptions' version, one copy per partition (each append script checks its own).</summary>
    public RedisKey SubscriptionVersion(int partition) => Tag(partition) + "subv";

    /// <summary>The partition's webhook outbox stream (consumer group <c>workers</c>).</summary>
    public RedisKey Outbox(int partition) => Tag(partition) + "o";

    public RedisKey Meta(int partition, string channel) => Tag(partition) + "m:" + channel;

    public RedisKey Stream(int partition, string channel) => Tag(partition) + "s:" + channel;

    public RedisKey Idempotency(int partition, string channel, string key) => Tag(partition) + "k:" + channel + ":" + key;

    public RedisChannel PubSub(int partition, string channel) => RedisChannel.Literal(Tag(partition) + "p:" + channel);

    public string PubSubName(int partition, string channel) => Tag(partition) + "p:" + channel;

    private string Tag(int partition) => _tags[partition];
}
