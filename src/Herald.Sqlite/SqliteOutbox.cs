using Herald.Engine;
using Herald.Hub;
using Herald.Webhooks;
using Herald.Webhooks.Outbound;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// The writer's half of the SQLite outbox, riding on the channel log's writer loop
/// (<see cref="ISqliteLogExtension"/>): every appended publication that matches an enabled
/// subscription gets its delivery row in the same transaction, so a commit holds both or neither —
/// a crash cannot lose a delivery of an acknowledged publication. Subscription changes, attempt
/// records and replays run on the same loop (<see cref="SqliteChannelLog.RunOnWriterAsync{T}"/>),
/// so a subscription created before a publish is matched by it, and one removed is not.
/// </summary>
/// <remarks>Every member but the committed snapshot runs on the writer loop.</remarks>
internal sealed partial class SqliteOutbox(OutboundWebhookOptions options, OutboxSignal signal) : ISqliteLogExtension
{
    // 4,096 finished deliveries deleted per sweep step, a step at most every second: a few
    // milliseconds of the writer each time, and faster than the 2,000 deliveries/s it keeps up with.
    private const int SweepBatch = 4096;
    private const long SweepEveryMs = 1000;

    private readonly Dictionary<string, WebhookSubscription> working = new(StringComparer.Ordinal);
    private readonly HashSet<string> queued = new(StringComparer.Ordinal);
    private readonly List<WebhookSubscription> matches = [];
    private WebhookRoutes routes = WebhookRoutes.Empty;
    private volatile IReadOnlyDictionary<string, WebhookSubscription> committed = new Dictionary<string, WebhookSubscription>();
    private volatile WebhookRoutes committedRoutes = WebhookRoutes.Empty;
    private bool subscriptionsChanged;
    private long nextSweepMs;

    private SqliteConnection connection = null!;
    private SqliteCommand insertDelivery = null!;
    private SqliteParameter[] insertDeliveryParameters = null!;
    private SqliteCommand insertAttempt = null!;
    private SqliteParameter[] insertAttemptParameters = null!;
    private SqliteCommand updateDelivery = null!;
    private SqliteParameter[] updateDeliveryParameters = null!;
    private SqliteCommand upsertSubscription = null!;
    private SqliteParameter[] upsertSubscriptionParameters = null!;

    /// <summary>Subscriptions as last committed; safe to read from any thread.</summary>
    public IReadOnlyDictionary<string, WebhookSubscription> Subscriptions => committed;

    /// <summary>The routes of <see cref="Subscriptions"/>; safe to read from any thread.</summary>
    public WebhookRoutes Routes => committedRoutes;

    public void Open(SqliteConnection connection)
    {
        this.connection = connection;
        using (var schema = connection.CreateCommand())
        {
            schema.CommandText = SchemaSql + "CREATE TEMP TABLE IF NOT EXISTS webhook_swept (id INTEGER PRIMARY KEY);";
            schema.ExecuteNonQuery();
        }

        Migrate(connection);
        insertDelivery = SqliteChannelLog.Prepare(connection, InsertDeliverySql, out insertDeliveryParameters, "$subscription", "$webhook", "$channel", "$seq", "$body", "$next", "$created", "$type");
        insertDeliveryParameters[4].SqliteType = SqliteType.Blob;
        insertAttempt = SqliteChannelLog.Prepare(connection, InsertAttemptSql, out insertAttemptParameters, "$delivery", "$number", "$time", "$status", "$latency", "$error");
        updateDelivery = SqliteChannelLog.Prepare(connection, UpdateDeliverySql, out updateDeliveryParameters, "$id", "$state", "$attempts", "$total", "$next");
        upsertSubscription = SqliteChannelLog.Prepare(connection, UpsertSubscriptionSql, out upsertSubscriptionParameters,
            "$id", "$url", "$channels", "$secret", "$enabled", "$ordered", "$description", "$created", "$updated", "$reason", "$events");
        LoadSubscriptions();
        committed = new Dictionary<string, WebhookSubscription>(working, StringComparer.Ordinal);
        committedRoutes = routes;
    }

    public void OnAppended(Publication publication, long nowMs)
    {
        var index = routes.Publications;
        if (index.Count == 0)
            return;
        matches.Clear();
        index.Match(publication.Channel, matches);
        if (matches.Count == 0)
            return;

        var body = PublicationEncoder.Encode(publication, WireFormat.Json);
        var firstDelay = (long)options.Schedule.DelayBefore(0).TotalMilliseconds;
        var webhookId = WebhookMessageId.Of(publication);
        foreach (var subscription in matches)
            InsertDelivery(subscription.Id, webhookId, publication.Channel, publication.Offset, body, nowMs + firstDelay, nowMs, WebhookEventTypes.Publication);

        WebhookMetrics.DeliveriesCreated.Add(matches.Count);
    }

    /// <summary>One delivery row, on the writer's prepared insert; its subscription is then told it has something queued.</summary>
    private void InsertDelivery(string subscription, string webhookId, string channel, long offset, byte[] body, long dueMs, long nowMs, string type)
    {
        var p = insertDeliveryParameters;
        p[0].Value = subscription;
        p[1].Value = webhookId;
        p[2].Value = channel;
        p[3].Value = offset;
        p[4].Value = body;
        p[5].Value = dueMs;
        p[6].Value = nowMs;
        p[7].Value = type;
        insertDelivery.ExecuteNonQuery();
        queued.Add(subscription);
    }

    /// <summary>A delivery row per event and subscription that takes it, matched against the subscriptions as they are on the writer.</summary>
    public int EnqueueEvents(IReadOnlyList<WebhookEvent> events, long nowMs)
    {
        var firstDelay = (long)options.Schedule.DelayBefore(0).TotalMilliseconds;
        var made = 0;
        foreach (var e in events)
        {
            matches.Clear();
            routes.Match(e.Type, e.Channel, matches);
            if (matches.Count == 0)
                continue;
            var body = e.Body.ToArray();
            foreach (var subscription in matches)
            {
                // Offset 0: an event has no place in the channel's log.
                InsertDelivery(subscription.Id, e.WebhookId, e.Channel, 0L, body, nowMs + firstDelay, nowMs, e.Type);
                made++;
            }
        }

        matches.Clear();
        WebhookMetrics.DeliveriesCreated.Add(made);
        return made;
    }

    public void OnSweep(long nowMs) => Sweep(nowMs);

    public void OnCommitted()
    {
        if (subscriptionsChanged)
        {
            subscriptionsChanged = false;
            committed = new Dictionary<string, WebhookSubscription>(working, StringComparer.Ordinal);
            committedRoutes = routes;
            signal.SubscriptionsChanged();
        }

        foreach (var subscription in queued)
            signal.Queued(subscription);
        queued.Clear();
    }

    public void OnRolledBack()
    {
        queued.Clear();
        if (!subscriptionsChanged)
            return;
        subscriptionsChanged = false;
        LoadSubscriptions();
    }

    public void Dispose()
    {
        insertDelivery?.Dispose();
        insertAttempt?.Dispose();
        updateDelivery?.Dispose();
        upsertSubscription?.Dispose();
    }

    // ---- work run through SqliteChannelLog.RunOnWriterAsync ----

    public bool Create(WebhookSubscription subscription, int maxSubscriptions)
    {
        if (working.Count >= maxSubscriptions)
            return false;
        Write(subscription);
        return true;
    }

    public WebhookSubscription? Update(string id, SubscriptionPatch patch, long nowMs)
    {
        if (!working.TryGetValue(id, out var current))
            return null;
        var updated = patch.ApplyTo(current, DateTimeOffset.FromUnixTimeMilliseconds(nowMs));
        Write(updated);
        if (updated.Enabled && !current.Enabled)
            queued.Add(id);
        return updated;
    }

    public bool Delete(string id)
    {
        if (!working.ContainsKey(id))
            return false;
        using var command = connection.CreateCommand();
        command.CommandText = DeleteSubscriptionSql;
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
        working.Remove(id);
        Changed();
        return true;
    }

    public void Record(AttemptRecord record, long nowMs)
    {
        var attempt = record.Attempt;
        var p = updateDeliveryParameters;
        p[0].Value = record.DeliveryId;
        p[1].Value = (int)record.Status;
        p[2].Value = record.Attempts;
        p[3].Value = attempt.Number;
        p[4].Value = record.NextMs;
        if (updateDelivery.ExecuteNonQuery() == 0)
            return;

        var a = insertAttemptParameters;
        a[0].Value = record.DeliveryId;
        a[1].Value = attempt.Number;
        a[2].Value = attempt.At.ToUnixTimeMilliseconds();
        a[3].Value = attempt.StatusCode is { } status ? status : DBNull.Value;
        a[4].Value = attempt.LatencyMs;
        a[5].Value = attempt.Error is { } error ? error : DBNull.Value;
        insertAttempt.ExecuteNonQuery();

        if (record.DisableReason is { } reason && working.TryGetValue(record.Subscription, out var subscription) && subscription.Enabled)
        {
            Write(subscription with { Enabled = false, DisabledReason = reason, UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(nowMs) });
        }

        if (nowMs >= nextSweepMs)
            Sweep(nowMs);
    }

    public ReplayOutcome Replay(long id, long nowMs)
    {
        using var select = connection.CreateCommand();
        select.CommandText = SelectDeliverySubscriptionSql;
        select.Parameters.AddWithValue("$id", id);
        if (select.ExecuteScalar() is not string subscription)
            return ReplayOutcome.NotFound;
        if (!working.TryGetValue(subscription, out var owner) || !owner.Enabled)
            return ReplayOutcome.SubscriptionDisabled;

        var p = updateDeliveryParameters;
        p[0].Value = id;
        p[1].Value = (int)DeliveryStatus.Pending;
        p[2].Value = 0;
        p[3].Value = 0;
        p[4].Value = nowMs;
        updateDelivery.ExecuteNonQuery();
        queued.Add(subscription);
        return ReplayOutcome.Replayed;
    }

    private void Write(WebhookSubscription subscription)
    {
        var p = upsertSubscriptionParameters;
        p[0].Value = subscription.Id;
        p[1].Value = subscription.Url;
        p[2].Value = string.Join('\n', subscription.Channels);
        p[3].Value = subscription.Secret;
        p[4].Value = subscription.Enabled ? 1 : 0;
        p[5].Value = subscription.Ordered ? 1 : 0;
        p[6].Value = subscription.Description is { } description ? description : DBNull.Value;
        p[7].Value = subscription.CreatedAt.ToUnixTimeMilliseconds();
        p[8].Value = subscription.UpdatedAt.ToUnixTimeMilliseconds();
        p[9].Value = subscription.DisabledReason is { } reason ? reason : DBNull.Value;
        p[10].Value = string.Join('\n', subscription.Events);
        upsertSubscription.ExecuteNonQuery();
        working[subscription.Id] = subscription;
        Changed();
    }

    private void Changed()
    {
        subscriptionsChanged = true;
        routes = new WebhookRoutes([.. working.Values]);
    }

    private void LoadSubscriptions()
    {
        working.Clear();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = SelectSubscriptionsSql;
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                var subscription = new WebhookSubscription(
                    row.GetString(0),
                    row.GetString(1),
                    row.GetString(2).Split('\n'),
                    row.GetString(3),
                    row.GetInt64(4) != 0,
                    row.GetInt64(5) != 0,
                    row.IsDBNull(6) ? null : row.GetString(6),
                    DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
                    DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)),
                    row.IsDBNull(9) ? null : row.GetString(9))
                {
                    Events = row.GetString(10).Split('\n'),
                };
                working[subscription.Id] = subscription;
            }
        }

        routes = new WebhookRoutes([.. working.Values]);
    }

    private void Sweep(long nowMs)
    {
        nextSweepMs = nowMs + SweepEveryMs;
        var cutoff = nowMs - (long)options.DeliveryRetention.TotalMilliseconds;
        using var boundary = connection.CreateCommand();
        boundary.CommandText = SelectSweepBoundarySql;
        boundary.Parameters.AddWithValue("$cutoff", cutoff);
        var first = boundary.ExecuteScalar() is long id ? id : long.MaxValue;

        using var sweep = connection.CreateCommand();
        sweep.CommandText = SweepSql;
        sweep.Parameters.AddWithValue("$boundary", first);
        sweep.Parameters.AddWithValue("$limit", SweepBatch);
        sweep.ExecuteNonQuery();
    }
}
