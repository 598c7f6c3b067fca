namespace Herald.Redis;

/// <summary>
/// The Lua scripts of the Redis webhook store (<see cref="RedisWebhookStore"/>); key layout in
/// <see cref="RedisWebhookKeys"/>. A delivery is a hash <c>d:&lt;id&gt;</c> holding the outbox entry's
/// fields as the append script wrote them (<c>s c o e t i f y m d</c>; an event other than a
/// publication has <c>k</c>, its type, and its JSON in <c>d</c>) and its state: <c>st</c>
/// (0 pending, 1 delivered, 2 dead), <c>a</c> attempts in this run, <c>n</c> attempts in all,
/// <c>x</c> next attempt (unix ms), <c>w</c> the node holding its lease ('' for none).
/// </summary>
/// <remarks>
/// A subscription's due set <c>s:&lt;sub&gt;:due</c> scores each pending delivery with the time any
/// node may take it: its next attempt, or, while a node holds it, the end of that node's lease. So a
/// lease needs no timer: when its holder dies the score simply comes due. The delivery keys are
/// computed inside the scripts (their ids come from INCR), which standalone Redis allows; on Redis
/// Cluster every webhook key shares the <c>{w}</c> hash tag, but the scripts that also touch a
/// partition's stream or version key would have to be split per slot.
/// </remarks>
internal static class RedisWebhookScripts
{
    /// <summary>
    /// Writes a subscription and a new version into every partition at once, so an append matched
    /// against the old subscriptions is refused (<c>stale</c>) from this moment on, on every node.
    /// KEYS: subscriptions hash, global version, then every partition's version key.
    /// ARGV: op ('c' create, 'u' update, 'd' delete), id, json, max subscriptions (c) or the json
    /// the update was made from (u), new version, pub/sub channel, message.
    /// Returns 1 done, 0 refused (c: the limit; u, d: no such subscription), -1 changed meanwhile (u).
    /// </summary>
    public const string WriteSubscription = """
        local op, id = ARGV[1], ARGV[2]
        if op == 'c' then
          if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
          redis.call('HSET', KEYS[1], id, ARGV[3])
        elseif op == 'u' then
          local current = redis.call('HGET', KEYS[1], id)
          if not current then return 0 end
          if current ~= ARGV[4] then return -1 end
          redis.call('HSET', KEYS[1], id, ARGV[3])
        else
          if redis.call('HDEL', KEYS[1], id) == 0 then return 0 end
        end
        for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[5]) end
        redis.call('PUBLISH', ARGV[6], ARGV[7])
        return 1
        """;

    /// <summary>
    /// Writes events other than publications into a partition's outbox stream, one entry per
    /// subscription, with the fields of a publication's entry (<c>o</c> 0, <c>d</c> the event's JSON)
    /// and <c>k</c>, its type — after checking the partition's subscriptions version, as the append does.
    /// KEYS: the partition's subscriptions version, its outbox stream.
    /// ARGV: the version the node matched with, now ms, then per entry: subscription, type, channel, event id, body.
    /// Returns the entries written, or -1 with nothing done when the version is not the current one.
    /// </summary>
    public const string EnqueueEvents = """
        if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return -1 end
        local n = 0
        for i = 3, #ARGV, 5 do
          redis.call('XADD', KEYS[2], '*', 's', ARGV[i], 'k', ARGV[i + 1], 'c', ARGV[i + 2], 'o', 0, 'e', '', 't', ARGV[2],
            'i', ARGV[i + 3], 'f', '', 'y', '', 'm', '', 'd', ARGV[i + 4])
          n = n + 1
        end
        return n
        """;

    /// <summary>The subscriptions and their version, read together. KEYS: subscriptions hash, global version. Returns {version, [id, json, …]}.</summary>
    public const string LoadSubscriptions = """
        return { redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[1]) }
        """;

    /// <summary>
    /// Turns a partition's outbox entries into deliveries: reads them as this node in the
    /// <c>workers</c> group (new ones with XREADGROUP, or with XAUTOCLAIM those another read left
    /// pending longer than the lease), writes each delivery, XACKs and XDELs its entry — one atomic
    /// step, so an entry becomes exactly one delivery and a node killed at any moment leaves none
    /// half made. An entry whose subscription was deleted since is dropped.
    /// KEYS: outbox stream, subscriptions hash, id counter, all-deliveries index.
    /// ARGV: group, consumer, count, first delay ms, webhook key prefix, min idle ms ('' for new entries).
    /// Returns {entries read (-1: the group was just created, call again), deliveries made, {subscription ids}}.
    /// </summary>
    public const string Materialize = """
        local stream, group, me = KEYS[1], ARGV[1], ARGV[2]
        local read
        if ARGV[6] == '' then
          read = redis.pcall('XREADGROUP', 'GROUP', group, me, 'COUNT', ARGV[3], 'STREAMS', stream, '>')
        else
          read = redis.pcall('XAUTOCLAIM', stream, group, me, ARGV[6], '0-0', 'COUNT', ARGV[3])
        end
        if type(read) == 'table' and read.err then
          if string.find(read.err, 'NOGROUP', 1, true) then
            -- Never created, or Redis came back empty. From '0': entries appended before the
            -- group existed are read too.
            redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
            return { -1, 0, {} }
          end
          return redis.error_reply(read.err)
        end
        local entries = {}
        if ARGV[6] == '' then
          if read then entries = read[1][2] end
        else
          entries = read[2]
        end
        local prefix, delay = ARGV[5], tonumber(ARGV[4])
        local made, queued, seen = 0, {}, {}
        for _, entry in ipairs(entries) do
          local sid, fields = entry[1], entry[2]
          if redis.call('XACK', stream, group, sid) == 1 and fields then
            local f = {}
            for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
            local sub = f['s']
            if sub and redis.call('HEXISTS', KEYS[2], sub) == 1 then
              local id = redis.call('INCR', KEYS[3])
              local dk = prefix .. 'd:' .. id
              local next = tonumber(f['t']) + delay
              redis.call('HSET', dk, unpack(fields))
              redis.call('HSET', dk, 'st', 0, 'a', 0, 'n', 0, 'x', next, 'w', '')
              redis.call('ZADD', KEYS[4], id, id)
              local sk = prefix .. 's:' .. sub .. ':'
              redis.call('ZADD', sk .. 'all', id, id)
              redis.call('ZADD', sk .. 'p', id, id)
              redis.call('ZADD', sk .. 'due', next, id)
              made = made + 1
              if not seen[sub] then
                seen[sub] = true
                queued[#queued + 1] = sub
              end
            end
          end
          redis.call('XDEL', stream, sid)
        end
        -- A consumer with nothing pending is forgotten: nodes come and go, the group must not
        -- collect their names. One with entries pending keeps them for XAUTOCLAIM, which then
        -- forgets it too once it is idle and empty.
        if #redis.call('XPENDING', stream, group, '-', '+', 1, me) == 0 then
          redis.call('XGROUP', 'DELCONSUMER', stream, group, me)
        end
        if ARGV[6] ~= '' then
          for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
            local c = {}
            for i = 1, #consumer, 2 do c[consumer[i]] = consumer[i + 1] end
            if c['pending'] == 0 and c['idle'] >= tonumber(ARGV[6]) then
              redis.call('XGROUP', 'DELCONSUMER', stream, group, c['name'])
            end
          end
        end
        return { #entries, made, queued }
        """;

    /// <summary>The partitions whose outbox stream holds entries not yet made into deliveries. KEYS: every outbox stream. Returns their indexes.</summary>
    public const string Backlog = """
        local out = {}
        for i, key in ipairs(KEYS) do
          if redis.call('XLEN', key) > 0 then out[#out + 1] = i - 1 end
        end
        return out
        """;

    /// <summary>
    /// Which of the given due sets has a delivery any node may take now. KEYS: due sets. ARGV: now ms.
    /// Returns their indexes.
    /// </summary>
    public const string Ready = """
        local out = {}
        for i, key in ipairs(KEYS) do
          if #redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, 1) > 0 then out[#out + 1] = i - 1 end
        end
        return out
        """;

    /// <summary>
    /// Takes a subscription's due deliveries and leases them to this node until ARGV[2]. First
    /// gives back the leases of deliveries this node took but no longer attempts (their lane
    /// stopped, or their record failed). Ordered: only the oldest pending delivery, and only when it
    /// is due and no other node holds it.
    /// KEYS: the subscription's due set, its pending set.
    /// ARGV: now ms, lease end ms, node, limit, webhook key prefix, ordered ('1'/'0'), count of ids
    /// to give back, those ids, then the ids being attempted here (skipped).
    /// Returns {{id, {c, o, e, t, i, f, y, m, d, a, n, k}}…}, next due ms or nil}.
    /// </summary>
    public const string Take = """
        local now, me, limit, prefix = tonumber(ARGV[1]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
        local back = tonumber(ARGV[7])
        for i = 8, 7 + back do
          local dk = prefix .. 'd:' .. ARGV[i]
          local h = redis.call('HMGET', dk, 'w', 'st', 'x')
          if h[1] == me and h[2] == '0' then
            redis.call('HSET', dk, 'w', '')
            redis.call('ZADD', KEYS[1], 'XX', h[3], ARGV[i])
          end
        end
        local claimed, nclaimed = {}, 0
        for i = 8 + back, #ARGV do
          claimed[ARGV[i]] = true
          nclaimed = nclaimed + 1
        end
        local function take(id, dk)
          redis.call('HSET', dk, 'w', me)
          redis.call('ZADD', KEYS[1], ARGV[2], id)
          return { id, redis.call('HMGET', dk, 'c', 'o', 'e', 't', 'i', 'f', 'y', 'm', 'd', 'a', 'n', 'k', 'q') }
        end
        local out = {}
        if ARGV[6] == '1' then
          local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
          if not head or claimed[head] then return { out, false } end
          local dk = prefix .. 'd:' .. head
          local h = redis.call('HMGET', dk, 'st', 'x', 'w')
          if h[1] ~= '0' then
            -- Finished or removed: an index entry left behind. Look again at once.
            redis.call('ZREM', KEYS[2], head)
            redis.call('ZREM', KEYS[1], head)
            return { out, ARGV[1] }
          end
          local score = redis.call('ZSCORE', KEYS[1], head) or h[2]
          if h[3] ~= '' and h[3] ~= me and tonumber(score) > now then return { out, score } end
          if tonumber(h[2]) > now then return { out, h[2] } end
          out[1] = take(head, dk)
          return { out, false }
        end
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit + nclaimed)
        for _, id in ipairs(ids) do
          if #out >= limit then break end
          if not claimed[id] then
            local dk = prefix .. 'd:' .. id
            if redis.call('HGET', dk, 'st') == '0' then
              out[#out + 1] = take(id, dk)
            else
              redis.call('ZREM', KEYS[1], id)
              redis.call('ZREM', KEYS[2], id)
            end
          end
        end
        if #out > 0 then return { out, false } end
        local next = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
        return { out, next[2] or false }
        """;

    /// <summary>
    /// Stores an attempt and the delivery's new state, and ends this node's lease on it. A failed
    /// attempt does not reschedule a delivery that is finished meanwhile or that another node holds
    /// now (this node's lease ran out): the other node's attempt decides. A final outcome always counts.
    /// ARGV: webhook key prefix, id, node, status, attempts, attempt number, next ms, attempt text,
    /// the publication id of the delivery that was taken ('' when unknown): after Redis lost its data
    /// ids start again, and a late record must not land on another delivery of the same id.
    /// Returns 0 when there is no such delivery.
    /// </summary>
    public const string Record = """
        local prefix, id, me = ARGV[1], ARGV[2], ARGV[3]
        local dk = prefix .. 'd:' .. id
        local h = redis.call('HMGET', dk, 's', 'st', 'w', 'n', 'i')
        if not h[1] or (ARGV[9] ~= '' and h[5] ~= ARGV[9]) then return 0 end
        redis.call('HSET', prefix .. 'a:' .. id, ARGV[6], ARGV[8])
        if tonumber(ARGV[6]) > tonumber(h[4]) then redis.call('HSET', dk, 'n', ARGV[6]) end
        local status = ARGV[4]
        if status == '0' and (h[2] ~= '0' or (h[3] ~= '' and h[3] ~= me)) then return 1 end
        redis.call('HSET', dk, 'st', status, 'a', ARGV[5], 'x', ARGV[7], 'w', '')
        local sk = prefix .. 's:' .. h[1] .. ':'
        if status == '0' then
          redis.call('ZADD', sk .. 'due', ARGV[7], id)
          redis.call('ZADD', sk .. 'p', id, id)
        else
          redis.call('ZREM', sk .. 'due', id)
          redis.call('ZREM', sk .. 'p', id)
        end
        return 1
        """;

    /// <summary>
    /// Extends ('r') or gives back ('f') this node's leases. ARGV: webhook key prefix, node, mode,
    /// lease end ms (r), then delivery ids. Returns the ids this node no longer holds (finished,
    /// removed, or taken by another node after the lease ran out).
    /// </summary>
    public const string Lease = """
        local prefix, me, mode = ARGV[1], ARGV[2], ARGV[3]
        local lost = {}
        for i = 5, #ARGV do
          local dk = prefix .. 'd:' .. ARGV[i]
          local h = redis.call('HMGET', dk, 'w', 'st', 's', 'x')
          if h[1] == me and h[2] == '0' then
            local due = prefix .. 's:' .. h[3] .. ':due'
            if mode == 'r' then
              redis.call('ZADD', due, 'XX', ARGV[4], ARGV[i])
            else
              redis.call('HSET', dk, 'w', '')
              redis.call('ZADD', due, 'XX', h[4], ARGV[i])
            end
          else
            lost[#lost + 1] = ARGV[i]
          end
        end
        return lost
        """;

    /// <summary>
    /// Makes a delivery pending and due now with a fresh schedule, keeping its attempts. The
    /// subscription's JSON is read here so the check and the change are one step.
    /// KEYS: subscriptions hash. ARGV: webhook key prefix, id, now ms.
    /// Returns {'ok', subscription}, {'missing'} or {'disabled'}.
    /// </summary>
    public const string Replay = """
        local prefix, id = ARGV[1], ARGV[2]
        local dk = prefix .. 'd:' .. id
        local sub = redis.call('HGET', dk, 's')
        if not sub then return { 'missing' } end
        local json = redis.call('HGET', KEYS[1], sub)
        if not json or not cjson.decode(json)['enabled'] then return { 'disabled' } end
        redis.call('HSET', dk, 'st', 0, 'a', 0, 'x', ARGV[3], 'w', '')
        local sk = prefix .. 's:' .. sub .. ':'
        redis.call('ZADD', sk .. 'due', ARGV[3], id)
        redis.call('ZADD', sk .. 'p', id, id)
        return { 'ok', sub }
        """;

    /// <summary>
    /// A page of deliveries, newest first, filtered. Examines at most ARGV[4] deliveries per call
    /// (a sparse filter over a long outbox must not hold Redis up), so it may answer with a cursor
    /// to go on from. KEYS: the index to walk (all deliveries, or one subscription's).
    /// ARGV: webhook key prefix, max score ('+inf' or '(id'), rows wanted, budget, status, channel,
    /// subscription ('' for any).
    /// Returns {{id, {s, i, c, o, st, t, x, k}, {number, text, …}}…}, cursor id or nil}.
    /// </summary>
    public const string List = """
        local prefix, max, want, budget = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local status, channel, sub = ARGV[5], ARGV[6], ARGV[7]
        local rows, scanned, cursor, exhausted = {}, 0, false, false
        while #rows < want and scanned < budget do
          local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', 0, 256)
          if #ids == 0 then
            exhausted = true
            break
          end
          for _, id in ipairs(ids) do
            scanned = scanned + 1
            cursor = id
            local h = redis.call('HMGET', prefix .. 'd:' .. id, 's', 'i', 'c', 'o', 'st', 't', 'x', 'k')
            if h[1] and (status == '' or h[5] == status) and (channel == '' or h[3] == channel) and (sub == '' or h[1] == sub) then
              rows[#rows + 1] = { id, h, redis.call('HGETALL', prefix .. 'a:' .. id) }
            end
            if #rows >= want or scanned >= budget then break end
          end
          max = '(' .. cursor
        end
        if exhausted or #rows >= want then cursor = false end
        return { rows, cursor }
        """;

    /// <summary>One delivery as a <see cref="List"/> row, or nil. ARGV: webhook key prefix, id.</summary>
    public const string Get = """
        local h = redis.call('HMGET', ARGV[1] .. 'd:' .. ARGV[2], 's', 'i', 'c', 'o', 'st', 't', 'x', 'k')
        if not h[1] then return false end
        return { ARGV[2], h, redis.call('HGETALL', ARGV[1] .. 'a:' .. ARGV[2]) }
        """;

    /// <summary>
    /// Deletes finished deliveries created before the cut-off, oldest first, stopping at the first
    /// younger one; pending ones stay. KEYS: all-deliveries index. ARGV: webhook key prefix, cut-off ms, batch.
    /// </summary>
    public const string Sweep = """
        local prefix, cutoff = ARGV[1], tonumber(ARGV[2])
        local removed = 0
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)) do
          local dk = prefix .. 'd:' .. id
          local h = redis.call('HMGET', dk, 't', 'st', 's')
          if not h[1] then
            redis.call('ZREM', KEYS[1], id)
          elseif tonumber(h[1]) > cutoff then
            break
          elseif h[2] ~= '0' then
            redis.call('DEL', dk, prefix .. 'a:' .. id)
            redis.call('ZREM', KEYS[1], id)
            redis.call('ZREM', prefix .. 's:' .. h[3] .. ':all', id)
            removed = removed + 1
          end
        end
        return removed
        """;

    /// <summary>
    /// Deletes up to ARGV[2] deliveries of a removed subscription, and its sets once none is left.
    /// KEYS: all-deliveries index, the subscription's all, due and pending sets. ARGV: webhook key
    /// prefix, batch. Returns how many it deleted.
    /// </summary>
    public const string DeleteDeliveries = """
        local prefix, batch = ARGV[1], tonumber(ARGV[2])
        local ids = redis.call('ZRANGE', KEYS[2], 0, batch - 1)
        for _, id in ipairs(ids) do
          redis.call('DEL', prefix .. 'd:' .. id, prefix .. 'a:' .. id)
          redis.call('ZREM', KEYS[1], id)
          redis.call('ZREM', KEYS[2], id)
        end
        if #ids < batch then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4]) end
        return #ids
        """;
}
