using System.Globalization;
using Herald.Engine;
using Herald.Hub;
using Herald.Webhooks.Outbound;
using StackExchange.Redis;

namespace Herald.Redis;

internal sealed partial class RedisWebhookStore
{
    // 10,000 deliveries examined per listing call at most: about a millisecond of Redis, however
    // sparse the filter; a page needing more is read in several calls.
    private const int ListBudget = 10_000;

    /// <summary>Deliveries this node took and has not recorded yet: their leases are renewed.</summary>
    private readonly Dictionary<long, Held> _held = [];

    /// <summary>
    /// Takes the due deliveries and leases them to this node for <see cref="RedisEngineOptions.WebhookLease"/>
    /// (renewed while it holds them), so no other node attempts them meanwhile. Deliveries this node
    /// took earlier that are not in <paramref name="claimed"/> are not being attempted (their lane
    /// stopped before it started them, or their record failed): their leases are given back first.
    /// </summary>
    public async ValueTask<DueBatch> TakeDueAsync(string subscription, bool ordered, long nowMs, int limit, IReadOnlySet<long> claimed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);

        List<long> back = [];
        lock (_held)
        {
            foreach (var (id, held) in _held)
            {
                if (held.Subscription == subscription && !claimed.Contains(id))
                    back.Add(id);
            }

            foreach (var id in back)
                _held.Remove(id);
        }

        var values = new List<RedisValue>(7 + back.Count + claimed.Count)
        {
            nowMs, nowMs + _leaseMs, NodeId, limit, _w.Prefix, ordered ? "1" : "0", back.Count,
        };
        foreach (var id in back)
            values.Add(id);
        foreach (var id in claimed)
            values.Add(id);

        var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisWebhookScripts.Take, [_w.Due(subscription), _w.Pending(subscription)], [.. values]).ConfigureAwait(false))!;
        var rows = (RedisResult[])raw[0]!;
        var due = new List<DueDelivery>(rows.Length);
        var taken = new List<(long Id, string Publication)>(rows.Length);
        foreach (var result in rows)
        {
            var row = (RedisResult[])result!;
            var f = (RedisResult[])row[1]!;
            if ((string?)f[11] is { Length: > 0 } type && type != WebhookEventTypes.Publication)
            {
                // An event other than a publication: its entry carries the body as it is POSTed.
                var eventId = (string)f[4]!;
                due.Add(new DueDelivery((long)row[0], WebhookMessageId.Of(type, eventId), (byte[]?)f[8] ?? [], (int)(long)f[9], (int)(long)f[10]));
                taken.Add(((long)row[0], eventId));
                continue;
            }

            // 'q': the publication's stored countable ordinal (absent in entries from before ordinals).
            var (n, countable) = f.Length > 12 && !f[12].IsNull ? Publication.FromStoredN((long)f[12]) : (0, false);
            var publication = new Publication
            {
                Channel = (string)f[0]!,
                Offset = (long)f[1],
                Epoch = (string)f[2]!,
                Time = DateTimeOffset.FromUnixTimeMilliseconds((long)f[3]),
                Id = (string)f[4]!,
                From = NullIfEmpty((string?)f[5]),
                Type = NullIfEmpty((string?)f[6]),
                Meta = (byte[]?)f[7] is { Length: > 0 } meta ? meta : ReadOnlyMemory<byte>.Empty,
                Data = (byte[]?)f[8] ?? [],
                N = n,
                Countable = countable,
            };

            // The body exactly as the other stores make it, from the entry the append script wrote.
            due.Add(new DueDelivery((long)row[0], WebhookMessageId.Of(publication), PublicationEncoder.Encode(publication, WireFormat.Json), (int)(long)f[9], (int)(long)f[10]));
            taken.Add(((long)row[0], publication.Id));
        }

        lock (_held)
        {
            foreach (var (id, publication) in taken)
                _held[id] = new Held(subscription, publication);
        }

        // Same due time: oldest first (Redis orders ties by the member's text, "10" before "9").
        due.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new DueBatch(due, due.Count > 0 || raw[1].IsNull ? null : (long)(double)raw[1]);
    }

    public async ValueTask RecordAsync(AttemptRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var attempt = record.Attempt;
        string publication;
        lock (_held)
            publication = _held.TryGetValue(record.DeliveryId, out var held) ? held.Publication : string.Empty;
        var applied = (long)await Db.ScriptEvaluateAsync(
            RedisWebhookScripts.Record,
            values: [_w.Prefix, record.DeliveryId, NodeId, (int)record.Status, record.Attempts, attempt.Number, record.NextMs, FormatAttempt(attempt), publication]).ConfigureAwait(false);
        lock (_held)
            _held.Remove(record.DeliveryId);

        if (applied == 1 && record.DisableReason is { } reason)
        {
            await ChangeAsync(record.Subscription, current => current.Enabled
                ? current with { Enabled = false, DisabledReason = reason, UpdatedAt = _time.GetUtcNow() }
                : null).ConfigureAwait(false);
        }

        await SweepIfDueAsync().ConfigureAwait(false);
    }

    public async ValueTask<DeliveryPage> ListAsync(DeliveryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var index = query.Subscription is { } only ? _w.SubscriptionAll(only) : _w.All;
        var want = query.Limit + 1;
        var rows = new List<WebhookDelivery>(Math.Min(want, 1024));
        var max = query.Before is { } before ? "(" + before.ToString(CultureInfo.InvariantCulture) : "+inf";
        while (rows.Count < want)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(
                RedisWebhookScripts.List,
                [index],
                [
                    _w.Prefix, max, want - rows.Count, ListBudget,
                    query.Status is { } status ? ((int)status).ToString(CultureInfo.InvariantCulture) : string.Empty,
                    query.Channel ?? string.Empty,
                    query.Subscription ?? string.Empty,
                ]).ConfigureAwait(false))!;
            foreach (var row in (RedisResult[])raw[0]!)
                rows.Add(ReadDelivery((RedisResult[])row!));
            if (raw[1].IsNull)
                break;
            max = "(" + (string)raw[1]!;
        }

        var more = rows.Count > query.Limit;
        if (more)
            rows.RemoveAt(rows.Count - 1);
        return new DeliveryPage(rows, more ? rows[^1].Id : null);
    }

    public async ValueTask<WebhookDelivery?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var raw = await Db.ScriptEvaluateAsync(RedisWebhookScripts.Get, values: [_w.Prefix, id]).ConfigureAwait(false);
        return raw.IsNull ? null : ReadDelivery((RedisResult[])raw!);
    }

    public async ValueTask<ReplayOutcome> ReplayAsync(long id, CancellationToken cancellationToken = default)
    {
        await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var raw = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisWebhookScripts.Replay, [_w.Subscriptions], [_w.Prefix, id, NowMs()]).ConfigureAwait(false))!;
        switch ((string)raw[0]!)
        {
            case "missing":
                return ReplayOutcome.NotFound;
            case "disabled":
                return ReplayOutcome.SubscriptionDisabled;
            default:
                _signal.Queued((string)raw[1]!);
                return ReplayOutcome.Replayed;
        }
    }

    /// <param name="Publication">The id of the publication (or event) it carries: what a record checks it still is.</param>
    private readonly record struct Held(string Subscription, string Publication);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A <see cref="RedisWebhookScripts.List"/> row: <c>{id, {s, i, c, o, st, t, x, k}, {number, text, …}}</c>.</summary>
    private static WebhookDelivery ReadDelivery(RedisResult[] row)
    {
        var h = (RedisResult[])row[1]!;
        var status = (DeliveryStatus)(int)(long)h[4];
        var pairs = (RedisResult[])row[2]!;
        var attempts = new List<WebhookAttempt>(pairs.Length / 2);
        for (var i = 0; i + 1 < pairs.Length; i += 2)
            attempts.Add(ParseAttempt((int)(long)pairs[i], (string)pairs[i + 1]!));
        attempts.Sort((a, b) => a.Number.CompareTo(b.Number));
        // A publication's entry has no 'k' (nor those written before events existed).
        var type = (string?)h[7] is { Length: > 0 } k ? k : WebhookEventTypes.Publication;
        return new WebhookDelivery(
            (long)row[0],
            (string)h[0]!,
            WebhookMessageId.Of(type, (string)h[1]!),
            type,
            (string)h[2]!,
            type == WebhookEventTypes.Publication ? (long)h[3] : null,
            status,
            DateTimeOffset.FromUnixTimeMilliseconds((long)h[5]),
            status == DeliveryStatus.Pending ? DateTimeOffset.FromUnixTimeMilliseconds((long)h[6]) : null,
            attempts);
    }

    /// <summary>An attempt as one hash value: time ms, status ('' for none), latency ms, then '-' or '+' and the error.</summary>
    private static string FormatAttempt(WebhookAttempt attempt) => string.Create(
        CultureInfo.InvariantCulture,
        $"{attempt.At.ToUnixTimeMilliseconds()}\n{attempt.StatusCode}\n{attempt.LatencyMs}\n{(attempt.Error is null ? "-" : "+" + attempt.Error)}");

    private static WebhookAttempt ParseAttempt(int number, string text)
    {
        var parts = text.Split('\n', 4);
        return new WebhookAttempt(
            number,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[0], CultureInfo.InvariantCulture)),
            parts[1].Length == 0 ? null : int.Parse(parts[1], CultureInfo.InvariantCulture),
            int.Parse(parts[2], CultureInfo.InvariantCulture),
            parts[3].StartsWith('+') ? parts[3][1..] : null);
    }
}
