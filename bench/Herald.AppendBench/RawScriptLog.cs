using Herald.Engine;
using StackExchange.Redis;

namespace Herald.AppendBench;

/// <summary>
/// The floor for the Redis engine: one Lua call per append doing the Redis work any append needs —
/// the channel's offset counter, the entry in its stream (id = offset, trimmed to the history size)
/// and the pub/sub message — with none of Herald's checks (idempotency, eras, write counters,
/// outbox). Only <see cref="AppendAsync"/> is implemented.
/// </summary>
internal sealed class RawScriptLog(IDatabase db) : IChannelLog
{
    private static readonly LuaScript s_append = LuaScript.Prepare("""
        local top = redis.call('HINCRBY', @meta, 'top', 1)
        redis.call('XADD', @stream, 'MAXLEN', '~', @size, top .. '-1', 'd', @data)
        redis.call('PUBLISH', @topic, @data)
        return top
        """);

    public async ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default)
    {
        var key = "raw:{" + request.Channel + "}";
        var top = (long)await db.ScriptEvaluateAsync(s_append, new
        {
            meta = (RedisKey)(key + ":m"),
            stream = (RedisKey)(key + ":s"),
            topic = (RedisKey)(key + ":p"),
            size = request.Retention.HistorySize,
            data = (RedisValue)request.Data,
        }).ConfigureAwait(false);
        return new AppendResult(new Publication { Channel = request.Channel, Offset = top, Epoch = "raw", Id = string.Empty, Time = DateTimeOffset.UtcNow, Data = request.Data }, Duplicate: false);
    }

    public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
