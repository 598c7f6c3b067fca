namespace Herald.Redis;

/// <summary>
/// The Lua scripts of the Redis engine. Every key one call touches carries the same
/// <c>{partition}</c> hash tag, so each script runs on one slot — the layout Redis Cluster needs.
/// </summary>
/// <remarks>
/// Lua does not roll back: a command that fails leaves the commands before it applied. So in the
/// append, the command that can fail (XADD: out of memory, a stream ID not above the last) comes
/// before any counter moves, and the channel's top is written only after its entry is in the stream.
/// Times are the caller's clock (unix ms in ARGV), as every other engine uses the node's clock.
/// </remarks>
internal static class RedisScripts
{
    /// <summary>
    /// Appends a batch of publications of one partition.
    /// KEYS: era, write counter, webhook subscriptions version, outbox stream, then per append: meta
    /// hash, stream, idempotency key (the meta key again when the append has none).
    /// ARGV: now ms, the random part of a new era (used when the partition has none; its generation is above the node's), meta ttl ms, count, the
    /// subscriptions version the node matched with, the era and write counter the node last saw in
    /// the partition, then per append <see cref="AppendArgs"/> values:
    /// new epoch, history size, ttl ms, key window ms, has key, fingerprint, id, from, type, meta,
    /// data, pub/sub channel, channel, matching webhook subscription ids (comma-separated), countable
    /// ('1' when it counts as a message: the channel's ordinal 'n' moves with its offset).
    /// Returns {era, results} with per append {kind, epoch, offset, …} — kind 'a' appended (then the
    /// write counter and the countable ordinal), 'd' duplicate (then the original's id, time, key reused, stored fields), 'e'
    /// not appended (then the error; every append after a failed one fails with it) — or
    /// {'stale'} with nothing done when the node's webhook subscriptions are not the current ones, or
    /// {'behind', era, counter} with nothing done when the partition's write counter is below what
    /// the node saw in the same era, or its era is not newer than the one the node saw (see
    /// <see cref="RedisEras"/>): Redis went back in time, and appending now would hand out offsets
    /// that clients already saw with other publications.
    /// </summary>
    public const string Append = RedisEras.LuaGeneration + """
        if (redis.call('GET', KEYS[3]) or '') ~= ARGV[5] then
          return { 'stale' }
        end
        local now = tonumber(ARGV[1])
        local era = redis.call('GET', KEYS[1])
        local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
        if era and ARGV[6] ~= '' then
          if era == ARGV[6] then
            if counter < tonumber(ARGV[7]) then return { 'behind', era, counter } end
          elseif generation(era) <= generation(ARGV[6]) then
            -- Back in an era older than the one the node saw: restored from a copy taken before a rotation.
            return { 'behind', era, counter }
          end
        end
        if not era then
          -- Above every era the node saw there: a Redis that lost its data cannot agree with a
          -- node on a stale one.
          era = (generation(ARGV[6]) + 1) .. '.' .. ARGV[2]
          redis.call('SET', KEYS[1], era)
        end
        local meta_ttl = ARGV[3]
        local count = tonumber(ARGV[4])
        local results = {}
        -- Each channel's meta is read once per call and written once at its end: a batch of one
        -- channel's appends costs one HMGET, one HSET and two PEXPIREs, not one of each per append.
        local channels, order = {}, {}
        local wc = counter
        local failure = nil
        for i = 0, count - 1 do
          local mk, sk, kk = KEYS[5 + i * 3], KEYS[6 + i * 3], KEYS[7 + i * 3]
          local a = 8 + i * 15
          local history, ttl, window = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
          local has_key, fingerprint = ARGV[a + 4], ARGV[a + 5]
          local c = channels[mk]
          if not c then
            local meta = redis.call('HMGET', mk, 'e', 's', 'r', 'o', 'n')
            c = { sk = sk, epoch = meta[1], top = tonumber(meta[2] or '0'), oldest = tonumber(meta[4] or '0'), n = tonumber(meta[5] or '0'), dirty = false }
            if not c.epoch or meta[3] ~= era then
              -- A new generation: the channel was never written, expired, removed, or its partition's
              -- era moved on (data loss was detected). Entries of an older generation go.
              c.epoch = ARGV[a]
              c.top = 0
              c.n = 0
              c.oldest = now
              c.dirty = true
              redis.call('DEL', sk)
            end
            channels[mk] = c
            order[#order + 1] = mk
          end
          c.history, c.ttl = history, ttl
          local epoch = c.epoch
          local duplicate = nil
          if not failure and has_key == '1' then
            local stored = redis.call('GET', kk)
            if stored then
              local f = {}
              for part in string.gmatch(stored, '([^\n]*)\n?') do f[#f + 1] = part end
              if f[1] == epoch and tonumber(f[6]) > now then duplicate = f end
            end
          end
          if failure then
            results[#results + 1] = { 'e', failure }
          elseif duplicate then
            local entry = redis.call('XRANGE', sk, duplicate[2] .. '-0', duplicate[2] .. '-0')
            local fields = {}
            if #entry > 0 then fields = entry[1][2] end
            local reused = '0'
            if duplicate[5] ~= '' and duplicate[5] ~= fingerprint then reused = '1' end
            results[#results + 1] = { 'd', epoch, tonumber(duplicate[2]), duplicate[3], duplicate[4], reused, fields }
          else
            local top = c.top + 1
            local id, from, typ, pmeta, data, channel = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9], ARGV[a + 10], ARGV[a + 11]
            -- The countable ordinal, stored signed: n when the publication counts, -n when not.
            local countable = ARGV[a + 14]
            local n = c.n
            if countable == '1' then n = n + 1 end
            local stored_n = n
            if countable ~= '1' then stored_n = -n end
            -- The one command that can fail (an ID not above the stream's last): nothing of this
            -- append is applied then, and the metas are still written below for those before it.
            local added = redis.pcall('XADD', sk, 'MAXLEN', '~', history, top .. '-0', 't', now, 'i', id, 'f', from, 'y', typ, 'm', pmeta, 'd', data, 'n', stored_n)
            if type(added) == 'table' and added.err then
              failure = added.err
              results[#results + 1] = { 'e', failure }
            else
              c.top = top
              c.n = n
              c.dirty = true
              if has_key == '1' then
                redis.call('SET', kk, epoch .. '\n' .. top .. '\n' .. id .. '\n' .. now .. '\n' .. fingerprint .. '\n' .. (now + window), 'PX', window)
              end
              -- One outbox entry per matching webhook subscription, in the same step as the append:
              -- a delivery exists exactly when its publication was committed.
              local subscriptions = ARGV[a + 13]
              if subscriptions ~= '' then
                for subscription in string.gmatch(subscriptions, '[^,]+') do
                  redis.call('XADD', KEYS[4], '*', 's', subscription, 'c', ARGV[a + 12], 'o', top, 'e', epoch,
                    't', now, 'i', id, 'f', from, 'y', typ, 'm', pmeta, 'd', data, 'q', stored_n)
                end
              end
              wc = wc + 1
              redis.call('PUBLISH', channel, 'p' .. #epoch .. ':' .. epoch .. top .. ':' .. #id .. ':' .. id .. now .. ':' .. wc .. ':'
                .. n .. ':' .. countable .. ':' .. #era .. ':' .. era .. #from .. ':' .. from .. #typ .. ':' .. typ .. #pmeta .. ':' .. pmeta .. data)
              results[#results + 1] = { 'a', epoch, top, wc, n }
            end
          end
        end
        for _, mk in ipairs(order) do
          local c = channels[mk]
          if c.dirty then
            -- Entries past the ttl at the head go a few per call, and only when the oldest one known
            -- may have expired ('o': its time; stale-old after a MAXLEN trim, which only costs a look).
            if c.oldest + c.ttl <= now then
              local head = redis.call('XRANGE', c.sk, '-', '+', 'COUNT', 8)
              local oldest = now
              for _, entry in ipairs(head) do
                oldest = tonumber(entry[2][2])
                if oldest + c.ttl <= now then redis.call('XDEL', c.sk, entry[1]) else break end
              end
              c.oldest = oldest
            end
            redis.call('HSET', mk, 'e', c.epoch, 's', c.top, 'r', era, 'h', c.history, 't', c.ttl, 'o', c.oldest, 'n', c.n)
            redis.call('PEXPIRE', mk, meta_ttl)
            redis.call('PEXPIRE', c.sk, c.ttl)
          end
        end
        if wc > counter then
          redis.call('SET', KEYS[2], wc)
        end
        return { era, results }
        """;

    /// <summary>Values per append in <see cref="Append"/>'s ARGV.</summary>
    public const int AppendArgs = 15;

    /// <summary>Values before the appends' in <see cref="Append"/>'s ARGV.</summary>
    public const int AppendHeaderArgs = 7;

    /// <summary>Keys before the appends' in <see cref="Append"/>'s KEYS.</summary>
    public const int AppendHeaderKeys = 4;

    /// <summary>
    /// A channel's state and, optionally, a page of its history, read atomically.
    /// KEYS: era, write counter, meta hash, stream. ARGV: now ms, mode ('s' state only, 'f' forward, 'r' reverse), after, limit.
    /// Returns {era, wc, epoch, top, first, entries, n}; epoch '' for a channel never written (or of an older era).
    /// </summary>
    public const string Read = """
        local now = tonumber(ARGV[1])
        local era = redis.call('GET', KEYS[1]) or ''
        local wc = tonumber(redis.call('GET', KEYS[2]) or '0')
        local meta = redis.call('HMGET', KEYS[3], 'e', 's', 'r', 'h', 't', 'n')
        if not meta[1] or meta[3] ~= era then
          return { era, wc, '', 0, 1, {}, 0 }
        end
        local top, history, ttl = tonumber(meta[2]), tonumber(meta[4]), tonumber(meta[5])
        local low = math.max(top - history + 1, 1)
        local cutoff = now - ttl
        -- The first retained offset: at or above low, younger than the ttl (older ones wait at the head).
        local first = top + 1
        local from = low .. '-0'
        while true do
          local page = redis.call('XRANGE', KEYS[4], from, '+', 'COUNT', 64)
          if #page == 0 then break end
          local found = false
          for _, entry in ipairs(page) do
            if tonumber(entry[2][2]) > cutoff then
              first = tonumber(string.match(entry[1], '^(%d+)'))
              found = true
              break
            end
          end
          if found or #page < 64 then break end
          from = '(' .. page[#page][1]
        end
        local entries = {}
        local mode, after, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        if mode == 'f' and first <= top then
          entries = redis.call('XRANGE', KEYS[4], math.max(after + 1, first) .. '-0', '+', 'COUNT', limit)
        elseif mode == 'r' and first <= top then
          local last = top
          if after > 0 then last = math.min(after - 1, top) end
          if last >= first then
            entries = redis.call('XREVRANGE', KEYS[4], last .. '-0', first .. '-0', 'COUNT', limit)
          end
        end
        return { era, wc, meta[1], top, first, entries, tonumber(meta[6] or '0') }
        """;

    /// <summary>Forgets a channel's history: the next append starts a new epoch. KEYS: meta hash, stream.</summary>
    public const string Remove = """
        redis.call('DEL', KEYS[1], KEYS[2])
        return 1
        """;

    /// <summary>
    /// Moves a partition to a new era, unless another node already did (compare and set), so that
    /// one detected loss makes one new generation. KEYS: era. ARGV: the era seen, the new era.
    /// </summary>
    public const string RotateEra = """
        local current = redis.call('GET', KEYS[1])
        if current == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>
    /// Records the run id of the Redis server holding the data; when it changed since the data was
    /// written and the server may have lost acknowledged writes, every partition moves to a new era
    /// (once, whatever the number of nodes that notice). KEYS: run id key, then every partition's era.
    /// ARGV: run id, '1' when a restart may have lost writes, then per partition the random part of its new era (its generation is the current one's plus one).
    /// Returns the number of partitions rotated, or -1 when the run id was already recorded.
    /// </summary>
    public const string CheckRestart = RedisEras.LuaGeneration + """
        local stored = redis.call('GET', KEYS[1])
        if stored == ARGV[1] then return -1 end
        local rotated = 0
        if stored and ARGV[2] == '1' then
          for i = 2, #KEYS do
            local current = redis.call('GET', KEYS[i])
            if current then
              redis.call('SET', KEYS[i], (generation(current) + 1) .. '.' .. ARGV[i + 1])
              rotated = rotated + 1
            end
          end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return rotated
        """;
}
