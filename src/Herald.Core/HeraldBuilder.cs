using Herald.Engine;
using Herald.Engine.Memory;
using Herald.Webhooks.Outbound;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Herald;

/// <summary>What <see cref="HeraldServiceCollectionExtensions.AddHerald"/> returns: choose the engine on it (<c>UseSqlite()</c>, <c>UseMemory()</c>, <c>UseRedis(...)</c>).</summary>
public interface IHeraldBuilder
{
    IServiceCollection Services { get; }

    /// <summary>The configuration Herald was added with; engines bind their own section (<c>Herald:Sqlite</c>, <c>Herald:Redis</c>) from it.</summary>
    IConfiguration Configuration { get; }
}

internal sealed class HeraldBuilder(IServiceCollection services, IConfiguration configuration) : IHeraldBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}

/// <summary>
/// Everything an engine supplies that several nodes of one deployment must share: the log that
/// assigns positions, the broker that carries them to every node, and the durable webhook outbox
/// written in the append's atomic step. Created once per process by the chosen <c>Use…</c> call.
/// </summary>
/// <param name="Name">For logs and errors (<c>sqlite</c>, <c>memory</c>, <c>redis</c>).</param>
/// <param name="Log">The channel log.</param>
/// <param name="Broker">Carries committed publications and ephemeral events to every node.</param>
/// <param name="Outbox">The webhook outbox; an engine without one is refused at start (deliveries would be lost silently).</param>
/// <param name="Subscriptions">Where webhook subscriptions live, beside the outbox.</param>
/// <param name="Resources">Disposed after the log (the outbox's readers, connections).</param>
/// <param name="Presence">Where presence is shared between nodes; null for a one-node engine (presence is then kept in this process).</param>
/// <param name="ReadState">Where read markers and mentions are kept; null: in this process's memory (lost at exit).</param>
internal sealed record HeraldEngine(
    string Name,
    IChannelLog Log,
    IBroker Broker,
    IWebhookOutbox? Outbox,
    IWebhookSubscriptionStore? Subscriptions,
    IAsyncDisposable? Resources = null,
    Presence.IPresenceStore? Presence = null,
    Reading.IReadStateStore? ReadState = null) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Broker.DisposeAsync().ConfigureAwait(false);
        await Log.DisposeAsync().ConfigureAwait(false);
        if (Resources is not null)
            await Resources.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The engine chosen for this process: the last <c>Use…</c> call wins.</summary>
internal sealed record EngineRegistration(string Name, Func<IServiceProvider, HeraldEngine> Create);

public static class HeraldEngineExtensions
{
    /// <summary>
    /// The in-memory engine: one node, ring buffers per channel, nothing survives the process (a
    /// restart starts new epochs, so resuming clients are told to reset). For tests and demos.
    /// </summary>
    public static IHeraldBuilder UseMemory(this IHeraldBuilder builder) =>
        builder.UseEngine("memory", CreateMemory);

    /// <summary>The in-memory engine's parts (tests wrap one of them: <c>engine with { Log = … }</c>).</summary>
    internal static HeraldEngine CreateMemory(IServiceProvider services)
    {
        var time = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<IOptions<HeraldOptions>>().Value;
        var broker = new InProcessBroker();
        var webhooks = new MemoryWebhookStore(options.Webhooks.Outbound, services.GetRequiredService<OutboxSignal>(), time);

        // No transaction to share: the outbox hears of each append as a second sink, inside
        // the channel's lock, so a delivery exists once the append is acknowledged.
        var log = new MemoryChannelLog(new CompositeSink(broker, webhooks), time);
        return new HeraldEngine("memory", log, broker, webhooks, webhooks, ReadState: new Reading.MemoryReadStateStore());
    }

    /// <summary>
    /// One of several nodes in this process over <paramref name="backplane"/>: its shared log and a
    /// broker of this node's own, which may be told to lose, repeat or reorder messages. For tests
    /// of several nodes without a Redis; outbound webhooks see nothing (each node's outbox is its own).
    /// </summary>
    public static IHeraldBuilder UseMemoryBackplane(this IHeraldBuilder builder, MemoryBackplane backplane)
    {
        ArgumentNullException.ThrowIfNull(backplane);
        return builder.UseEngine("memory-backplane", services =>
        {
            var options = services.GetRequiredService<IOptions<HeraldOptions>>().Value;
            var webhooks = new MemoryWebhookStore(options.Webhooks.Outbound, services.GetRequiredService<OutboxSignal>(), services.GetRequiredService<TimeProvider>());
            return new HeraldEngine("memory-backplane", new SharedLog(backplane.Log), backplane.CreateBroker(), webhooks, webhooks, Presence: backplane.Presence, ReadState: backplane.ReadState);
        });
    }

    /// <summary>Registers an engine (for engine packages: <c>UseSqlite</c>, <c>UseRedis</c>); replaces one chosen before.</summary>
    internal static IHeraldBuilder UseEngine(this IHeraldBuilder builder, string name, Func<IServiceProvider, HeraldEngine> create)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.RemoveAll<EngineRegistration>();
        builder.Services.AddSingleton(new EngineRegistration(name, create));
        return builder;
    }

    /// <summary>The chosen engine, checked: it must supply an outbox.</summary>
    internal static HeraldEngine CreateEngine(IServiceProvider services)
    {
        var registration = services.GetService<EngineRegistration>()
            ?? throw new InvalidOperationException("No Herald engine is configured: call UseSqlite(), UseMemory() or UseRedis(...) on the builder AddHerald(...) returns (or set Herald:Store for `herald serve`).");
        var engine = registration.Create(services);
        if (engine.Outbox is null || engine.Subscriptions is null)
        {
            throw new InvalidOperationException(
                $"The '{registration.Name}' engine supplies no webhook outbox: outbound webhooks would be dropped silently. Use an engine that has one (sqlite, memory, redis).");
        }

        return engine;
    }
}

/// <summary>A log shared by several nodes of one process: each node's engine leaves its disposal to the owner.</summary>
internal sealed class SharedLog(IChannelLog log) : IChannelLog
{
    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) => log.AppendAsync(request, cancellationToken);

    public ValueTask<ReadResult> ReadAsync(string channel, ReadRequest request, CancellationToken cancellationToken = default) => log.ReadAsync(channel, request, cancellationToken);

    public ValueTask<StreamState> GetStateAsync(string channel, CancellationToken cancellationToken = default) => log.GetStateAsync(channel, cancellationToken);

    public ValueTask RemoveAsync(string channel, CancellationToken cancellationToken = default) => log.RemoveAsync(channel, cancellationToken);

    public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => log.PingAsync(cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
