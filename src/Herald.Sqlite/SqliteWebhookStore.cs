using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Herald.Engine;
using Herald.Webhooks.Outbound;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// Webhook subscriptions and the outbox in the SQLite channel log's file. Writes go through the
/// log's writer loop (<see cref="SqliteOutbox"/>), reads through a few read connections of their
/// own (WAL: readers never block the writer).
/// </summary>
internal sealed partial class SqliteWebhookStore : IWebhookSubscriptionStore, IWebhookOutbox, IDisposable
{
    // 4: the delivery worker's lanes and the API share them; more concurrent readers open temporary ones.
    private const int MaxPooledReaders = 4;

    private const string DeliveryColumns = "id, subscription, webhook_id, channel, seq, state, created_ms, next_ms, type";

    private readonly SqliteChannelLog log;
    private readonly SqliteOutbox outbox;
    private readonly string connectionString;
    private readonly ConcurrentBag<SqliteConnection> readers = [];
    private readonly ConcurrentBag<DueReader> dueReaders = [];
    private int disposed;

    public SqliteWebhookStore(SqliteChannelLog log, SqliteOutbox outbox)
    {
        this.log = log;
        this.outbox = outbox;
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = log.DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
        }.ToString();
    }

    public WebhookRoutes Routes => outbox.Routes;

    public ValueTask<int> EnqueueEventsAsync(IReadOnlyList<WebhookEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return events.Count == 0 ? ValueTask.FromResult(0) : log.RunOnWriterAsync(now => outbox.EnqueueEvents(events, now), cancellationToken);
    }

    public ValueTask<bool> CreateAsync(WebhookSubscription subscription, int maxSubscriptions, CancellationToken cancellationToken = default) =>
        log.RunOnWriterAsync(_ => outbox.Create(subscription, maxSubscriptions), cancellationToken);

    public ValueTask<IReadOnlyList<WebhookSubscription>> ListAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<WebhookSubscription>>([.. outbox.Subscriptions.Values.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)]);

    public ValueTask<WebhookSubscription?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(outbox.Subscriptions.GetValueOrDefault(id));

    public ValueTask<WebhookSubscription?> UpdateAsync(string id, SubscriptionPatch patch, CancellationToken cancellationToken = default) =>
        log.RunOnWriterAsync(now => outbox.Update(id, patch, now), cancellationToken);

    public ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        log.RunOnWriterAsync(_ => outbox.Delete(id), cancellationToken);

    public ValueTask RecordAsync(AttemptRecord record, CancellationToken cancellationToken = default)
    {
        var done = log.RunOnWriterAsync(now =>
        {
            outbox.Record(record, now);
            return true;
        }, cancellationToken);
        return done.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(done.AsTask());
    }

    public ValueTask<ReplayOutcome> ReplayAsync(long id, CancellationToken cancellationToken = default) =>
        log.RunOnWriterAsync(now => outbox.Replay(id, now), cancellationToken);

    public ValueTask<DueBatch> TakeDueAsync(string subscription, bool ordered, long nowMs, int limit, IReadOnlySet<long> claimed, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (!dueReaders.TryTake(out var reader))
            reader = new DueReader(Open());
        try
        {
            return ValueTask.FromResult(ordered ? reader.TakeHead(subscription, nowMs, claimed) : reader.TakeDue(subscription, nowMs, limit, claimed));
        }
        finally
        {
            if (Volatile.Read(ref disposed) == 0 && dueReaders.Count < MaxPooledReaders)
                dueReaders.Add(reader);
            else
                reader.Dispose();
        }
    }

    public ValueTask<DeliveryPage> ListAsync(DeliveryQuery query, CancellationToken cancellationToken = default)
    {
        var sql = new StringBuilder($"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE id < $before");
        if (query.Subscription is not null)
            sql.Append(" AND subscription = $subscription");
        if (query.Status is not null)
            sql.Append(" AND state = $state");
        if (query.Channel is not null)
            sql.Append(" AND channel = $channel");
        sql.Append(" ORDER BY id DESC LIMIT $limit");

        var connection = Rent();
        try
        {
            using var read = Transaction(connection);
            using var command = connection.CreateCommand();
            command.CommandText = sql.ToString();
            command.Parameters.AddWithValue("$before", query.Before ?? long.MaxValue);
            command.Parameters.AddWithValue("$subscription", (object?)query.Subscription ?? DBNull.Value);
            command.Parameters.AddWithValue("$state", query.Status is { } status ? (int)status : DBNull.Value);
            command.Parameters.AddWithValue("$channel", (object?)query.Channel ?? DBNull.Value);
            command.Parameters.AddWithValue("$limit", query.Limit + 1);
            var rows = ReadDeliveries(command);
            var more = rows.Count > query.Limit;
            if (more)
                rows.RemoveAt(rows.Count - 1);
            var deliveries = WithAttempts(connection, rows);
            return ValueTask.FromResult(new DeliveryPage(deliveries, more ? deliveries[^1].Id : null));
        }
        finally
        {
            Return(connection);
        }
    }

    public ValueTask<WebhookDelivery?> GetAsync(long id, CancellationToken cancellationToken = default)
    {
        var connection = Rent();
        try
        {
            using var read = Transaction(connection);
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            var rows = ReadDeliveries(command);
            return ValueTask.FromResult(rows.Count == 0 ? null : WithAttempts(connection, rows)[0]);
        }
        finally
        {
            Return(connection);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        while (readers.TryTake(out var reader))
            reader.Dispose();
        while (dueReaders.TryTake(out var dueReader))
            dueReader.Dispose();
    }

    private static List<WebhookDelivery> ReadDeliveries(SqliteCommand command)
    {
        var rows = new List<WebhookDelivery>();
        using var row = command.ExecuteReader();
        while (row.Read())
        {
            var status = (DeliveryStatus)row.GetInt64(5);
            var type = row.GetString(8);
            rows.Add(new WebhookDelivery(
                row.GetInt64(0),
                row.GetString(1),
                row.GetString(2),
                type,
                row.GetString(3),
                type == WebhookEventTypes.Publication ? row.GetInt64(4) : null,
                status,
                DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(6)),
                status == DeliveryStatus.Pending ? DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)) : null,
                []));
        }

        return rows;
    }

    private static List<WebhookDelivery> WithAttempts(SqliteConnection connection, List<WebhookDelivery> deliveries)
    {
        if (deliveries.Count == 0)
            return deliveries;

        var attempts = new Dictionary<long, List<WebhookAttempt>>();
        using (var command = connection.CreateCommand())
        {
            var names = new StringBuilder();
            for (var i = 0; i < deliveries.Count; i++)
            {
                var name = "$d" + i.ToString(CultureInfo.InvariantCulture);
                names.Append(i == 0 ? name : "," + name);
                command.Parameters.AddWithValue(name, deliveries[i].Id);
            }

            command.CommandText = $"SELECT delivery, number, time_ms, status, latency_ms, error FROM webhook_attempts WHERE delivery IN ({names}) ORDER BY delivery, number";
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                var delivery = row.GetInt64(0);
                if (!attempts.TryGetValue(delivery, out var list))
                    attempts[delivery] = list = [];
                list.Add(new WebhookAttempt(
                    (int)row.GetInt64(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(2)),
                    row.IsDBNull(3) ? null : (int)row.GetInt64(3),
                    (int)row.GetInt64(4),
                    row.IsDBNull(5) ? null : row.GetString(5)));
            }
        }

        return [.. deliveries.Select(d => attempts.TryGetValue(d.Id, out var list) ? d with { Attempts = list } : d)];
    }

    /// <summary>One snapshot for several statements (a deferred read transaction).</summary>
    private static SqliteTransaction Transaction(SqliteConnection connection) => connection.BeginTransaction(deferred: true);

    private SqliteConnection Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return readers.TryTake(out var reader) ? reader : Open();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    private void Return(SqliteConnection connection)
    {
        if (Volatile.Read(ref disposed) == 0 && readers.Count < MaxPooledReaders)
        {
            readers.Add(connection);
            return;
        }

        connection.Dispose();
    }
}
