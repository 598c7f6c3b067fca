using Herald.Engine;
using Herald.Settings;
using Herald.Webhooks.Outbound;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Herald.Redis;

public static class RedisEngineExtensions
{
    /// <summary>
    /// The scale-out engine: the channel log, broker and webhook outbox on Redis, shared by every
    /// Herald node pointed at it. A load balancer in front needs nothing sticky: every transport
    /// resumes from its cursor on any node. Settings from <c>Herald:Redis</c>, then <paramref name="configure"/>.
    /// </summary>
    public static IHeraldBuilder UseRedis(this IHeraldBuilder builder, Action<RedisEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddHeraldSettings<RedisEngineOptions>(builder.Configuration, RedisEngineOptions.Section);
        if (configure is not null)
            options.Configure(configure);
        builder.Services.AddSingleton<IValidateOptions<RedisEngineOptions>, Validator>();

        return builder.UseEngine("redis", services =>
        {
            var settings = services.GetRequiredService<IOptions<RedisEngineOptions>>().Value;
            var loggers = services.GetRequiredService<ILoggerFactory>();
            var time = services.GetRequiredService<TimeProvider>();
            var connection = RedisConnection.Open(settings, loggers.CreateLogger("Herald.Redis"));
            // The webhook store is the log's sink (told of this node's appends, to make their
            // deliveries at once) and its outbox index (which subscriptions an append matches).
            var webhooks = new RedisWebhookStore(
                connection.Multiplexer,
                settings,
                services.GetRequiredService<IOptions<HeraldOptions>>().Value.Webhooks.Outbound,
                services.GetRequiredService<OutboxSignal>(),
                time,
                loggers.CreateLogger<RedisWebhookStore>());
            var log = new RedisChannelLog(connection.Multiplexer, settings, sink: webhooks, time, loggers.CreateLogger<RedisChannelLog>());
            log.Outbox = webhooks;
            var broker = new RedisBroker(connection.Multiplexer, settings, loggers.CreateLogger<RedisBroker>());
            broker.OnWriteCounterSeen(log.ObserveRemote);
            connection.Attach(log, broker);
            var presence = new RedisPresenceStore(connection.Multiplexer, settings, time);
            return new HeraldEngine("redis", log, broker, webhooks, webhooks, new Resources(webhooks, connection), presence, new RedisReadStateStore(connection.Multiplexer, settings));
        });
    }

    private sealed class Validator(IOptions<HeraldOptions> herald) : IValidateOptions<RedisEngineOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisEngineOptions options)
        {
            var errors = options.Validate().ToList();
            var attemptTimeout = herald.Value.Webhooks.Outbound.AttemptTimeout;
            if (options.WebhookLease <= attemptTimeout)
            {
                errors.Add($"Herald:Redis:WebhookLease ({options.WebhookLease}) must be longer than Herald:Webhooks:Outbound:AttemptTimeout ({attemptTimeout}): "
                    + "a delivery being attempted must not pass to another node because one renewal of its lease came late.");
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    /// <summary>The webhook store (its loops, and the leases it gives back) goes before the connection it uses.</summary>
    private sealed class Resources(RedisWebhookStore webhooks, RedisConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await webhooks.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The engine's one connection to Redis (a multiplexer: pipelined commands and one subscription
/// connection), and what happens when it drops and comes back: a check for a restart that lost
/// writes, then the node's catch-up of every followed channel.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly ILogger _logger;
    private RedisChannelLog? _log;
    private RedisBroker? _broker;
    private int _restoreRequests;

    private RedisConnection(ConnectionMultiplexer multiplexer, ILogger logger)
    {
        Multiplexer = multiplexer;
        _logger = logger;
        multiplexer.ConnectionFailed += (_, e) => RedisLog.ConnectionFailed(_logger, e.ConnectionType, e.FailureType);
        multiplexer.ConnectionRestored += (_, e) =>
        {
            RedisLog.ConnectionRestored(_logger, e.ConnectionType);
            _ = OnRestoredAsync();
        };
    }

    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>
    /// Connects without failing when Redis is down: the node starts, answers <c>/readyz</c> not
    /// ready and publishes <c>503 engine_unavailable</c> until Redis is reachable.
    /// </summary>
    public static RedisConnection Open(RedisEngineOptions options, ILogger logger)
    {
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        // While Redis is unreachable a publish answers 503 at once (the client retries with its
        // idempotency key) instead of waiting in a queue for the whole command timeout.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        // INFO and CONFIG GET tell a restart that lost writes from one that did not.
        configuration.AllowAdmin = true;
        configuration.ClientName ??= "herald-" + Environment.MachineName;
        return new RedisConnection(ConnectionMultiplexer.Connect(configuration), logger);
    }

    public void Attach(RedisChannelLog log, RedisBroker broker)
    {
        _log = log;
        _broker = broker;
        _ = CheckUntilDoneAsync();
    }

    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync().ConfigureAwait(false);

    private async Task OnRestoredAsync()
    {
        // Both connections (commands, subscriptions) report, each when it is back. One check and
        // one catch-up run at a time; a report that comes while they run makes them run once more
        // afterwards, so the last catch-up always follows the last resubscription.
        if (Interlocked.Increment(ref _restoreRequests) != 1)
            return;
        while (true)
        {
            var handled = Volatile.Read(ref _restoreRequests);
            await CheckUntilDoneAsync().ConfigureAwait(false);
            _broker?.SignalReconnected();
            if (Interlocked.CompareExchange(ref _restoreRequests, 0, handled) == handled)
                return;
        }
    }

    /// <summary>
    /// The restart check, tried again while the connection stays up (Redis answers LOADING while it
    /// reads its files back): appending before it ran could reuse offsets a lost write had.
    /// </summary>
    private async Task CheckUntilDoneAsync()
    {
        for (var attempt = 0; attempt < 60 && Multiplexer.IsConnected; attempt++)
        {
            if (await CheckAsync(report: attempt == 0).ConfigureAwait(false))
                return;
            await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
        }
    }

    /// <summary>Records the partition count with the data the first time; a node configured with another count refuses to append.</summary>
    private async Task CheckLayoutAsync(RedisChannelLog log)
    {
        var keys = log.Keys;
        var configured = keys.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var db = Multiplexer.GetDatabase();
        await db.StringSetAsync(keys.Layout, configured, when: When.NotExists).ConfigureAwait(false);
        var written = (string?)await db.StringGetAsync(keys.Layout).ConfigureAwait(false);
        if (written is null || written == configured)
        {
            log.LayoutMismatch = null;
            return;
        }

        log.LayoutMismatch = $"The data in Redis was written with {written} partitions, this node is configured with {keys.Partitions} (Herald:Redis:Partitions must be the same on every node).";
        RedisLog.LayoutMismatch(_logger, keys.Prefix, written, keys.Partitions);
    }

    /// <returns>False when Redis could not be asked (down, or still loading); a later attempt or reconnect asks again.</returns>
    private async Task<bool> CheckAsync(bool report)
    {
        if (_log is not { } log)
            return true;
        try
        {
            await CheckLayoutAsync(log).ConfigureAwait(false);
            var check = new RedisRestartCheck(Multiplexer, log.Keys, _logger);
            var (persistence, lossy) = await check.ReadPersistenceAsync().ConfigureAwait(false);
            if (lossy)
                RedisLog.LossyPersistence(_logger, persistence);
            else
                RedisLog.Persistence(_logger, persistence);
            await check.RunAsync().ConfigureAwait(false);
            await log.CheckWatermarksAsync().ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // Redis may be down at start; the reconnect runs the check again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (report)
                RedisLog.RestartCheckFailed(_logger, ex);
            return false;
        }
    }
}
