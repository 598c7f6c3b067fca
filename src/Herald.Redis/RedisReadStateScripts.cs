namespace Herald.Redis;

/// <summary>
/// The read state store's scripts: each call is one user's, on that user's three keys (one hash
/// tag, one Cluster slot), so every read-modify-write is atomic per user. They repeat
/// <see cref="Reading.ReadMarkers"/> in Lua.
/// </summary>
/// <remarks>
/// KEYS of every script: the user's channels (sorted set: channel → change number; a channel is one of
/// the user's while it is a member), markers (hash: channel → <c>"offset n updated_ms epoch"</c>),
/// mentions (hash: channel → <c>"offset,offset,… epoch"</c>, oldest first, one epoch) and the
/// receipts' seen and delivered markers (hash: channel|<c>s</c> or channel|<c>d</c> → a marker as
/// above). Offsets stay the decimal strings they came as (Lua numbers are doubles: compared, never
/// formatted back). A channel's members are listed apart, in the channel's own slot
/// (<see cref="RedisReadStateStore"/>).
/// </remarks>
internal static class RedisReadStateScripts
{
    /// <summary>
    /// The keys, <c>touch</c> (makes a channel the user's most recently changed one: one above the
    /// user's highest change number), <c>parse</c> (a stored marker's offset and epoch) and
    /// <c>forward</c> (whether a marker at offset and epoch replaces a stored one, as
    /// <see cref="Reading.ReadMarkers.Advances"/>).
    /// </summary>
    private const string Prelude = """
        local chans, markers, mentions = KEYS[1], KEYS[2], KEYS[3]
        local function touch(ch)
          local top = redis.call('ZREVRANGE', chans, 0, 0, 'WITHSCORES')
          local score = 1
          if top[2] then score = tonumber(top[2]) + 1 end
          redis.call('ZADD', chans, score, ch)
        end
        local function parse(raw)
          local o, e = string.match(raw, '^(%d+) %-?%d+ %-?%d+ (.*)$')
          return tonumber(o), e
        end
        local function forward(raw, offset, epoch)
          if not raw then return true end
          local o, e = parse(raw)
          return e ~= epoch or offset > o
        end

        """;

    /// <summary>
    /// KEYS[4] the receipts hash; ARGV: channel, epoch, offset, n, updated ms, and '1' when backward
    /// is allowed, '2' when the seen marker follows the read marker (read and seen in one call).
    /// Returns {1, the stored value} when the marker was stored, {0, the stored value} when not; with
    /// '2', a third element: 1 when the seen marker moved to the stored read marker, 0 when not.
    /// </summary>
    public const string SetMarker = Prelude + """
        local ch, epoch, offset = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local raw = redis.call('HGET', markers, ch)
        local changed, value = 0, raw
        if ARGV[6] == '1' or forward(raw, offset, epoch) then
          changed = 1
          value = ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. epoch
          redis.call('HSET', markers, ch, value)
          local list = redis.call('HGET', mentions, ch)
          if list then
            local offsets, e = string.match(list, '^([%d,]+) (.*)$')
            local kept = {}
            if e == epoch then
              for o in string.gmatch(offsets, '%d+') do
                if tonumber(o) > offset then kept[#kept + 1] = o end
              end
            end
            if #kept == 0 then
              redis.call('HDEL', mentions, ch)
            else
              redis.call('HSET', mentions, ch, table.concat(kept, ',') .. ' ' .. epoch)
            end
          end
          touch(ch)
        end
        if ARGV[6] ~= '2' then return {changed, value} end
        local field, readOffset, readEpoch = ch .. '|s', parse(value)
        if not forward(redis.call('HGET', KEYS[4], field), readOffset, readEpoch) then return {changed, value, 0} end
        redis.call('HSET', KEYS[4], field, value)
        return {changed, value, 1}
        """;

    /// <summary>
    /// KEYS[4] the receipts hash; ARGV: channel, epoch, offset, n, updated ms, <c>s</c> (seen) or
    /// <c>d</c> (delivered). Stores the marker when it moves forward and makes the channel one of the
    /// user's when it was not (without moving it when it was). Returns {1, value} when stored, {0,
    /// the stored value} when not.
    /// </summary>
    public const string SetReceipt = Prelude + """
        local ch, epoch, offset = ARGV[1], ARGV[2], tonumber(ARGV[3])
        local field = ch .. '|' .. ARGV[6]
        local raw = redis.call('HGET', KEYS[4], field)
        if not forward(raw, offset, epoch) then return {0, raw} end
        local value = ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. epoch
        redis.call('HSET', KEYS[4], field, value)
        if not redis.call('ZSCORE', chans, ch) then touch(ch) end
        return {1, value}
        """;

    /// <summary>
    /// ARGV: channel, epoch, offset, keep. Returns 1 when the mention was kept, 0 when ignored (at or
    /// below the marker, already kept, older than the newest <c>keep</c>); the channel becomes one of
    /// the user's either way.
    /// </summary>
    public const string Mention = Prelude + """
        local ch, epoch, offset, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local exists = redis.call('ZSCORE', chans, ch)
        local function ignored()
          if not exists then touch(ch) end
          return 0
        end
        if not forward(redis.call('HGET', markers, ch), offset, epoch) then return ignored() end
        local kept, replaced = {}, false
        local list = redis.call('HGET', mentions, ch)
        if list then
          local offsets, e = string.match(list, '^([%d,]+) (.*)$')
          if e == epoch then
            for o in string.gmatch(offsets, '%d+') do kept[#kept + 1] = o end
          else
            replaced = true
          end
        end
        local at = #kept + 1
        for i = 1, #kept do
          local k = tonumber(kept[i])
          if k == offset then return ignored() end
          if k > offset then
            at = i
            break
          end
        end
        table.insert(kept, at, ARGV[3])
        local excess = #kept - keep
        if excess > 0 then
          if not replaced and at == 1 and excess == 1 then return ignored() end
          local trimmed = {}
          for i = excess + 1, #kept do trimmed[#trimmed + 1] = kept[i] end
          kept = trimmed
        end
        if #kept == 0 then
          redis.call('HDEL', mentions, ch)
        else
          redis.call('HSET', mentions, ch, table.concat(kept, ',') .. ' ' .. epoch)
        end
        touch(ch)
        return 1
        """;

    /// <summary>ARGV: channel. Returns 1 when the channel became one of the user's, 0 when it was.</summary>
    public const string Join = Prelude + """
        if redis.call('ZSCORE', chans, ARGV[1]) then return 0 end
        touch(ARGV[1])
        return 1
        """;

    /// <summary>ARGV: channel. Returns 1 when the user had an entry for it.</summary>
    public const string Remove = """
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        redis.call('HDEL', KEYS[4], ARGV[1] .. '|s', ARGV[1] .. '|d')
        return redis.call('ZREM', KEYS[1], ARGV[1])
        """;

    /// <summary>
    /// ARGV: <c>l</c> and a limit (the most recently changed channels first), or <c>n</c> and the
    /// channels (distinct). Returns {channel, marker ('' none), mentions ('' none), …} for the
    /// channels that are the user's — one snapshot. Commands take at most 1000 names at once
    /// (Lua's <c>unpack</c> is bounded by its C stack, 8000).
    /// </summary>
    public const string Get = """
        local chans, markers, mentions = KEYS[1], KEYS[2], KEYS[3]
        local function each(command, key, names)
          local out = {}
          for i = 1, #names, 1000 do
            local part = redis.call(command, key, unpack(names, i, math.min(i + 999, #names)))
            for j = 1, #part do out[#out + 1] = part[j] end
          end
          return out
        end
        local names
        if ARGV[1] == 'l' then
          names = redis.call('ZREVRANGE', chans, 0, tonumber(ARGV[2]) - 1)
        else
          local asked = {}
          for i = 2, #ARGV do asked[#asked + 1] = ARGV[i] end
          local scores = each('ZMSCORE', chans, asked)
          names = {}
          for i = 1, #asked do
            if scores[i] then names[#names + 1] = asked[i] end
          end
        end
        if #names == 0 then return {} end
        local m, x = each('HMGET', markers, names), each('HMGET', mentions, names)
        local out = {}
        for i = 1, #names do
          out[#out + 1] = names[i]
          out[#out + 1] = m[i] or ''
          out[#out + 1] = x[i] or ''
        end
        return out
        """;
}
