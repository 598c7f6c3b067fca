using System.Threading.Channels;
using Herald.Engine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Sqlite;

/// <summary>
/// The default, durable channel log: one SQLite file in WAL mode. All writes go through one
/// writer loop that commits everything queued in one transaction (group commit) and only then
/// acknowledges the appends and tells the <see cref="IPublicationSink"/>, in offset order. Reads
/// run concurrently on pooled read connections (WAL readers do not block the writer).
/// </summary>
/// <remarks>
/// One instance owns its file: two instances (or processes) writing the same file would each
/// cache channel tops and assign the same offsets.
/// </remarks>
public sealed partial class SqliteChannelLog : IChannelLog, IChannelStates
{
    private readonly string connectionString;
    private readonly IPublicationSink? sink;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SqliteChannelLogOptions options;
    private readonly Channel<object> queue;
    private readonly Task writerTask;

    // Held for the log's life: a second log (another herald on the same data directory) would
    // hand out the same offsets, so it is refused at start instead.
    private readonly FileStream ownership;
    private int disposed;

    /// <param name="databasePath">The database file; created (with its directory) when missing.</param>
    /// <param name="sink">Told about every committed publication, in offset order per channel.</param>
    /// <param name="time">The clock for publication times, TTLs and idempotency windows.</param>
    /// <param name="logger">Where failures are reported.</param>
    /// <param name="options">Durability and batching; <see cref="SqliteChannelLogOptions"/> defaults when null.</param>
    /// <exception cref="InvalidOperationException">The database cannot be opened or initialized.</exception>
    public SqliteChannelLog(
        string databasePath,
        IPublicationSink? sink = null,
        TimeProvider? time = null,
        ILogger<SqliteChannelLog>? logger = null,
        SqliteChannelLogOptions? options = null)
        : this(databasePath, sink, time, logger, options, extension: null)
    {
    }

    /// <param name="extension">Shares the writer's transactions (see <see cref="ISqliteLogExtension"/>); disposed with the log.</param>
    internal SqliteChannelLog(
        string databasePath,
        IPublicationSink? sink,
        TimeProvider? time,
        ILogger<SqliteChannelLog>? logger,
        SqliteChannelLogOptions? options,
        ISqliteLogExtension? extension)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        this.sink = sink;
        this.time = time ?? TimeProvider.System;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        this.options = options ?? new SqliteChannelLogOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(this.options.MaxBatchSize, 1, nameof(options));
        DatabasePath = Path.GetFullPath(databasePath);

        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // The log keeps its own connections with their prepared statements.
            Pooling = false,
        }.ToString();

        ownership = TakeOwnership(DatabasePath);
        this.extension = extension;
        try
        {
            writer = OpenWriter();
            OpenExtension();
        }
        catch
        {
            writer?.Dispose();
            extension?.Dispose();
            ownership.Dispose();
            throw;
        }

        Log.Opened(this.logger, DatabasePath, this.options.Synchronous);

        queue = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        writerTask = Task.Run(RunWriterAsync);
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Transactions the writer committed; lets tests see that concurrent appends share commits.</summary>
    internal long CommittedTransactions => Interlocked.Read(ref committedTransactions);

    /// <summary>Awaited by the writer after it wakes up and before it takes a batch; lets tests queue appends deterministically.</summary>
    internal Func<ValueTask>? BeforeBatch { get; set; }

    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Channel);
        ArgumentNullException.ThrowIfNull(request.Retention);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<AppendResult>(cancellationToken);

        // The log owns the data from here (IChannelLog's contract): it is bound as it came when it
        // is one whole array, as the publish service makes it. Hashed here, off the writer loop.
        var append = new PendingAppend(request, WholeArray(request.Data), cancellationToken)
        {
            Fingerprint = request.IdempotencyKey is null ? null : IdempotencyFingerprint.Of(request),
        };
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(append), this);

        return new ValueTask<AppendResult>(append.Task);
    }

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);

        var remove = new PendingRemove(channel, cancellationToken);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(remove), this);

        return new ValueTask(remove.Task);
    }

    public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        cancellationToken.ThrowIfCancellationRequested();
        var reader = RentReader();
        try
        {
            return ValueTask.FromResult(reader.Read(channel, request, time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        cancellationToken.ThrowIfCancellationRequested();
        var reader = RentReader();
        try
        {
            return ValueTask.FromResult(reader.GetState(channel, time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    public ValueTask<StreamState[]> GetStatesAsync(IReadOnlyList<string> channels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channels);
        cancellationToken.ThrowIfCancellationRequested();
        var reader = RentReader();
        try
        {
            return ValueTask.FromResult(reader.GetStates(channels, time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref disposed) != 0 || writerTask.IsCompleted)
            return ValueTask.FromResult(false);

        var reader = RentReader();
        try
        {
            return ValueTask.FromResult(reader.Ping());
        }
        catch (SqliteException ex)
        {
            Log.PingFailed(logger, DatabasePath, ex);
            return ValueTask.FromResult(false);
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    /// <summary>Commits everything already queued, stops the writer and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            await writerTask.ConfigureAwait(false);
            return;
        }

        queue.Writer.TryComplete();
        await writerTask.ConfigureAwait(false);
        while (readers.TryDequeue(out var reader))
            reader.Dispose();

        await ownership.DisposeAsync().ConfigureAwait(false);
        Log.Closed(logger, DatabasePath);
    }

    private static FileStream TakeOwnership(string databasePath)
    {
        var path = databasePath + ".lock";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The channel log '{databasePath}' is in use by another process (lock file '{path}'): one herald per data directory.", e);
        }
    }

    private SqliteConnection Open(bool writable)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            if (writable)
            {
                var directory = Path.GetDirectoryName(DatabasePath);
                if (!string.IsNullOrEmpty(directory))
                    Directory.CreateDirectory(directory);
            }

            connection.Open();
            return connection;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection.Dispose();
            throw new InvalidOperationException($"Cannot open the SQLite channel log '{DatabasePath}': {ex.Message}", ex);
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A command with its named parameters, prepared on first run and rebound after; also for <see cref="ISqliteLogExtension"/> statements.</summary>
    internal static SqliteCommand Prepare(SqliteConnection connection, string sql, out SqliteParameter[] parameters, params string[] names)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        parameters = new SqliteParameter[names.Length];
        for (var i = 0; i < names.Length; i++)
            parameters[i] = command.Parameters.Add(new SqliteParameter(names[i], null));

        return command;
    }

    private static byte[] WholeArray(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();

    private static object OrNull(string? value) => value is null ? DBNull.Value : value;

    private static Publication ReadPublication(SqliteDataReader row, string channel, string epoch, int first) => new()
    {
        Channel = channel,
        Epoch = epoch,
        Offset = row.GetInt64(first),
        Id = row.GetString(first + 1),
        Time = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(first + 2)),
        From = row.IsDBNull(first + 3) ? null : row.GetString(first + 3),
        Type = row.IsDBNull(first + 4) ? null : row.GetString(first + 4),
        Data = row.IsDBNull(first + 5) ? ReadOnlyMemory<byte>.Empty : row.GetFieldValue<byte[]>(first + 5),
        Meta = row.IsDBNull(first + 6) ? ReadOnlyMemory<byte>.Empty : row.GetFieldValue<byte[]>(first + 6),
        N = row.IsDBNull(first + 7) ? 0 : Math.Abs(row.GetInt64(first + 7)),
        Countable = !row.IsDBNull(first + 7) && row.GetInt64(first + 7) > 0,
    };

    /// <summary>An append waiting for the writer; it is its own completion source to save an allocation per append.</summary>
    private sealed class PendingAppend(AppendRequest request, byte[] data, CancellationToken cancellationToken)
        : TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AppendRequest Request { get; } = request;

        public byte[] Data { get; } = data;

        public byte[]? Fingerprint { get; init; }

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public AppendResult Result { get; set; }

        public bool Skipped { get; set; }
    }

    private sealed class PendingRemove(string channel, CancellationToken cancellationToken)
        : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Channel { get; } = channel;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public bool Skipped { get; set; }
    }
}
