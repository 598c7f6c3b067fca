namespace Herald.Redis;

/// <summary>
/// The presence store's script: one call applies one node's batch of a channel's changes, numbers
/// the visible change as a diff, keeps it for resume and publishes it — so every node sees one
/// order. Every key carries the channel's partition tag (one Cluster slot).
/// </summary>
/// <remarks>
/// Members are a hash <c>user → {"s":since ms,"c":connections,"l":leave-at ms,"st":status,"i":info}</c>
/// (cjson; <c>i</c> is the token's info as raw JSON text), connections a hash
/// <c>connection → {"u":user ('' anonymous),"x":lease expiry ms}</c>, the state a hash
/// <c>e</c> (epoch) and <c>q</c> (last diff number), the diffs a list of their JSON, and the
/// partition's timed set <c>channel → next due ms</c> (a member in its leave grace, a leased
/// connection) is what maintenance reads.
/// </remarks>
internal static class RedisPresenceScripts
{
    /// <summary>
    /// KEYS: state, members, connections, diffs, the partition's timed set.
    /// ARGV: channel, now ms, diffs kept, a new epoch (when the channel has none), the pub/sub
    /// channel, empty-state retention ms, then per change 7 values: kind (<c>j</c> join, <c>l</c>
    /// leave, <c>s</c> status, <c>m</c> maintenance: expired leases and due leaves), connection,
    /// user ('' anonymous), info (raw JSON, '' none), status ('=' + text, '' clears), leave-at ms
    /// ('' at once), lease expiry ms ('' none).
    /// Returns {seq, users, connections, diffed 0/1, leaves, occupancy, joined, left, user, delta,
    /// user, delta, …}: occupancy is <c>o</c> when nobody was present before the call and someone is
    /// after it (users or connections), <c>v</c> the other way round, '' otherwise; joined is
    /// {user, info, connections, since ms, status ('' none), …} of the users who became listed, left
    /// the users who stopped being listed — what only this call did, told only to its caller; the
    /// deltas are the users' connection-count changes, for the online index.
    /// </summary>
    public const string Apply = """
        local state, mem, con, dif, timed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
        local ch, now, keep, newEpoch, pub, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6])
        local epoch = redis.call('HGET', state, 'e')
        local seq = tonumber(redis.call('HGET', state, 'q') or '0')
        if not epoch then
          epoch = newEpoch
          seq = 0
          redis.call('HSET', state, 'e', epoch, 'q', 0)
        end
        local usersBefore, connsBefore = redis.call('HLEN', mem), redis.call('HLEN', con)
        local before, touched, deltas = {}, {}, {}
        local function touch(u)
          if before[u] == nil then
            before[u] = redis.call('HGET', mem, u) or false
            touched[#touched + 1] = u
          end
        end
        local function delta(u, d) deltas[#deltas + 1] = u; deltas[#deltas + 1] = d end
        local function leave(conn, raw, leaveAt)
          redis.call('HDEL', con, conn)
          local c = cjson.decode(raw)
          if c.u == '' then return end
          touch(c.u)
          delta(c.u, -1)
          local m = redis.call('HGET', mem, c.u)
          if not m then return end
          m = cjson.decode(m)
          m.c = m.c - 1
          if m.c > 0 then
            redis.call('HSET', mem, c.u, cjson.encode(m))
          elseif leaveAt and leaveAt > now then
            m.l = leaveAt
            redis.call('HSET', mem, c.u, cjson.encode(m))
            redis.call('ZADD', timed, 'LT', leaveAt, ch)
          else
            redis.call('HDEL', mem, c.u)
          end
        end
        local i = 7
        while i <= #ARGV do
          local kind, conn, user, info, status, leaveAt, expires = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
          i = i + 7
          if kind == 'j' then
            local raw = redis.call('HGET', con, conn)
            if raw then
              local c = cjson.decode(raw)
              c.x = expires
              redis.call('HSET', con, conn, cjson.encode(c))
            else
              redis.call('HSET', con, conn, cjson.encode({u = user, x = expires}))
              if user ~= '' then
                touch(user)
                delta(user, 1)
                local m = redis.call('HGET', mem, user)
                m = m and cjson.decode(m) or {s = now, c = 0, i = ''}
                m.c = m.c + 1
                m.l = nil
                if info ~= '' then m.i = info end
                redis.call('HSET', mem, user, cjson.encode(m))
              end
            end
            if expires then
              redis.call('ZADD', timed, 'LT', expires, ch)
            end
          elseif kind == 'l' then
            local raw = redis.call('HGET', con, conn)
            if raw then leave(conn, raw, leaveAt) end
          elseif kind == 's' then
            local raw = user ~= '' and redis.call('HGET', mem, user)
            if raw then
              touch(user)
              local m = cjson.decode(raw)
              if status == '' then m.st = nil else m.st = string.sub(status, 2) end
              redis.call('HSET', mem, user, cjson.encode(m))
            end
          elseif kind == 'm' then
            local all = redis.call('HGETALL', con)
            for k = 1, #all, 2 do
              local c = cjson.decode(all[k + 1])
              if c.x and c.x <= now then leave(all[k], all[k + 1], nil) end
            end
            local members = redis.call('HGETALL', mem)
            for k = 1, #members, 2 do
              local m = cjson.decode(members[k + 1])
              if m.l and m.l <= now and m.c <= 0 then
                touch(members[k])
                redis.call('HDEL', mem, members[k])
              end
            end
            local due = nil
            all = redis.call('HGETALL', con)
            for k = 1, #all, 2 do
              local c = cjson.decode(all[k + 1])
              if c.x and (not due or c.x < due) then due = c.x end
            end
            members = redis.call('HGETALL', mem)
            for k = 1, #members, 2 do
              local m = cjson.decode(members[k + 1])
              if m.l and (not due or m.l < due) then due = m.l end
            end
            if due then redis.call('ZADD', timed, due, ch) else redis.call('ZREM', timed, ch) end
          end
        end
        local function entry(u, m)
          local parts = {'{"user":', cjson.encode(u)}
          if m.i and m.i ~= '' then parts[#parts + 1] = ',"info":'; parts[#parts + 1] = m.i end
          if m.st then parts[#parts + 1] = ',"status":'; parts[#parts + 1] = cjson.encode(m.st) end
          parts[#parts + 1] = ',"conns":' .. string.format('%d', m.c) .. ',"since":' .. string.format('%d', m.s) .. '}'
          return table.concat(parts)
        end
        local joins, leaves, updates = {}, {}, {}
        local joined, left = {}, {}
        for _, u in ipairs(touched) do
          local old, now_ = before[u], redis.call('HGET', mem, u)
          if not old and now_ then
            local m = cjson.decode(now_)
            joins[#joins + 1] = entry(u, m)
            joined[#joined + 1] = u
            joined[#joined + 1] = m.i or ''
            joined[#joined + 1] = m.c
            joined[#joined + 1] = m.s
            joined[#joined + 1] = m.st or ''
          elseif old and not now_ then
            leaves[#leaves + 1] = cjson.encode(u)
            left[#left + 1] = u
          elseif old and now_ then
            local o, n = cjson.decode(old), cjson.decode(now_)
            if o.i ~= n.i or o.st ~= n.st then updates[#updates + 1] = entry(u, n) end
          end
        end
        local users, conns = redis.call('HLEN', mem), redis.call('HLEN', con)
        local counts = ',"users":' .. users .. ',"connections":' .. conns .. '}'
        local diffed = 0
        if #joins + #leaves + #updates > 0 then
          local diff = '{"type":"presence","channel":' .. cjson.encode(ch) .. ',"epoch":' .. cjson.encode(epoch)
            .. ',"from":' .. string.format('%d', seq) .. ',"to":' .. string.format('%d', seq + 1)
            .. ',"join":[' .. table.concat(joins, ',') .. '],"leave":[' .. table.concat(leaves, ',')
            .. '],"update":[' .. table.concat(updates, ',') .. ']' .. counts
          seq = seq + 1
          redis.call('HSET', state, 'q', seq)
          redis.call('RPUSH', dif, diff)
          redis.call('LTRIM', dif, -keep, -1)
          redis.call('PUBLISH', pub, 'e8:presence' .. diff)
          diffed = 1
        elseif users ~= usersBefore or conns ~= connsBefore then
          redis.call('PUBLISH', pub, 'e14:presence_count{"type":"presence_count","channel":' .. cjson.encode(ch) .. counts)
        end
        if users == 0 and conns == 0 then
          redis.call('PEXPIRE', state, retention)
          redis.call('PEXPIRE', dif, retention)
        else
          redis.call('PERSIST', state)
          redis.call('PERSIST', dif)
        end
        local occupancy = ''
        if usersBefore + connsBefore == 0 and users + conns > 0 then
          occupancy = 'o'
        elseif usersBefore + connsBefore > 0 and users + conns == 0 then
          occupancy = 'v'
        end
        local result = {seq, users, conns, diffed, #leaves, occupancy, joined, left}
        for _, v in ipairs(deltas) do result[#result + 1] = v end
        return result
        """;
}
