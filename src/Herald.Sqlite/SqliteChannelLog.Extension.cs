using Herald.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

/// <summary>
/// State that lives in the log's database and must change in the same transactions as the appends
/// (the webhook outbox: a delivery row is committed with the publication it carries, or neither is).
/// Every member runs on the log's one writer loop, so implementations need no locks for what they
/// touch there.
/// </summary>
internal interface ISqliteLogExtension : IDisposable
{
    /// <summary>Creates the extension's tables and prepares its statements on the writer's connection; called once, before the first batch.</summary>
    void Open(SqliteConnection connection);

    /// <summary>A publication (not a duplicate) was inserted in the current transaction.</summary>
    void OnAppended(Publication publication, long nowMs);

    /// <summary>The log's periodic sweep (<see cref="SqliteChannelLogOptions.SweepInterval"/>), inside the current transaction.</summary>
    void OnSweep(long nowMs);

    /// <summary>The current transaction committed: what it wrote is visible to readers now.</summary>
    void OnCommitted();

    /// <summary>The current transaction was rolled back: in-memory state derived from it must be reloaded.</summary>
    void OnRolledBack();
}

public sealed partial class SqliteChannelLog
{
    private readonly ISqliteLogExtension? extension;

    /// <summary>
    /// Runs <paramref name="work"/> on the writer loop inside the next group commit, in order with
    /// the appends queued before it, and completes once that transaction committed. The work runs
    /// under a savepoint: when it throws, only its own writes are undone and the exception is
    /// returned to the caller; the rest of the batch commits.
    /// </summary>
    /// <param name="work">Gets the batch's clock (unix milliseconds).</param>
    internal ValueTask<T> RunOnWriterAsync<T>(Func<long, T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<T>(cancellationToken);

        var pending = new PendingWork<T>(work, cancellationToken);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(pending), this);
        return new ValueTask<T>(pending.Task);
    }

    /// <summary>The writer connection's <c>PRAGMA synchronous</c> (1 NORMAL, 2 FULL): what an acknowledgement waited for.</summary>
    internal ValueTask<long> GetSynchronousAsync() =>
        RunOnWriterAsync(_ =>
        {
            using var command = writer.Connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous";
            return (long)command.ExecuteScalar()!;
        });

    private void OpenExtension()
    {
        if (extension is null)
            return;
        try
        {
            extension.Open(writer.Connection);
        }
        catch (SqliteException ex)
        {
            throw new InvalidOperationException($"Cannot initialize the SQLite channel log '{DatabasePath}': {ex.Message}", ex);
        }
    }

    private void RunWork(IPendingWork work, long nowMs)
    {
        if (work.CancellationToken.IsCancellationRequested)
        {
            work.Skipped = true;
            return;
        }

        writer.Savepoint.ExecuteNonQuery();
        try
        {
            work.Run(nowMs);
            writer.Release.ExecuteNonQuery();
        }
#pragma warning disable CA1031 // The work's own failure is its caller's; the batch around it goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            writer.RollbackToSavepoint.ExecuteNonQuery();
            writer.Release.ExecuteNonQuery();
            work.Failure = ex;
        }
    }

    /// <summary>Queued work whose result is handed out only after its transaction committed.</summary>
    private interface IPendingWork
    {
        CancellationToken CancellationToken { get; }

        bool Skipped { get; set; }

        Exception? Failure { get; set; }

        void Run(long nowMs);

        void Complete();

        void Fail(Exception failure);
    }

    private sealed class PendingWork<T>(Func<long, T> work, CancellationToken cancellationToken)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingWork
    {
        private T? result;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public bool Skipped { get; set; }

        public Exception? Failure { get; set; }

        public void Run(long nowMs) => result = work(nowMs);

        public void Complete()
        {
            if (Skipped)
                TrySetCanceled(CancellationToken);
            else if (Failure is not null)
                TrySetException(Failure);
            else
                TrySetResult(result!);
        }

        public void Fail(Exception failure) => TrySetException(failure);
    }
}
