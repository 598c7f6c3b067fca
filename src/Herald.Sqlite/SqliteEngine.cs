using Herald.Engine.Memory;
using Herald.Settings;
using Herald.Webhooks.Outbound;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Sqlite;

/// <summary>The SQLite engine's settings, bound from <c>Herald:Sqlite</c>; the file is <c>herald.db</c> in <c>Herald:DataDirectory</c>.</summary>
public sealed class SqliteEngineOptions
{
    public const string Section = "Herald:Sqlite";

    /// <inheritdoc cref="SqliteChannelLogOptions.Synchronous"/>
    public SqliteSynchronous Synchronous { get; set; } = SqliteSynchronous.Normal;

    /// <inheritdoc cref="SqliteChannelLogOptions.MaxBatchSize"/>
    public int MaxBatchSize { get; set; } = 1024;

    internal IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Synchronous))
            yield return "Herald:Sqlite:Synchronous must be Normal or Full.";
        if (MaxBatchSize is < 1 or > 65_536)
            yield return "Herald:Sqlite:MaxBatchSize must be from 1 to 65536.";
    }
}

public static class SqliteEngineExtensions
{
    /// <summary>
    /// The default engine: one node, durable. The channel log, the webhook subscriptions and the
    /// outbox share one SQLite file (WAL, group commit): a delivery row commits in the same
    /// transaction as the publication it carries. Publications reach the node in process.
    /// </summary>
    public static IHeraldBuilder UseSqlite(this IHeraldBuilder builder, Action<SqliteEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddHeraldSettings<SqliteEngineOptions>(builder.Configuration, SqliteEngineOptions.Section);
        if (configure is not null)
            options.Configure(configure);
        builder.Services.AddSingleton<IValidateOptions<SqliteEngineOptions>, Validator>();

        return builder.UseEngine("sqlite", services =>
        {
            var settings = services.GetRequiredService<IOptions<HeraldOptions>>().Value;
            var sqlite = services.GetRequiredService<IOptions<SqliteEngineOptions>>().Value;
            var directory = Path.GetFullPath(settings.DataDirectory);
            Directory.CreateDirectory(directory);

            var broker = new InProcessBroker();
            var outbox = new SqliteOutbox(settings.Webhooks.Outbound, services.GetRequiredService<OutboxSignal>());
            var log = new SqliteChannelLog(
                Path.Combine(directory, "herald.db"),
                broker,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<SqliteChannelLog>>(),
                new SqliteChannelLogOptions { Synchronous = sqlite.Synchronous, MaxBatchSize = sqlite.MaxBatchSize },
                outbox);
            var store = new SqliteWebhookStore(log, outbox);
            var readState = new SqliteReadStateStore(log);
            return new HeraldEngine("sqlite", log, broker, store, store, new DisposeAction(() =>
            {
                store.Dispose();
                readState.Dispose();
            }), ReadState: readState);
        });
    }

    private sealed class Validator : IValidateOptions<SqliteEngineOptions>
    {
        public ValidateOptionsResult Validate(string? name, SqliteEngineOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    private sealed class DisposeAction(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            dispose();
            return ValueTask.CompletedTask;
        }
    }
}
