using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Client.Internal;
using Herald.Client.Transports;
using Herald.Client.Webhooks;

namespace Herald.Client;

/// <summary>
/// A connection to one Herald server, shared by all of the application's subscriptions. It picks the best
/// transport the network allows (WebSocket, SSE, NDJSON streaming, long or short polling), falls back when
/// one is blocked, reconnects with jittered backoff, and resumes every channel from its last position on
/// whatever transport it ends up on: each publication reaches the application exactly once, in order —
/// or an explicit <see cref="SubscriptionBase.Reset"/> when history is gone.
/// </summary>
/// <example>
/// <code>
/// await using var herald = new HeraldClient(new HeraldClientOptions { BaseAddress = new("https://chat.example.com"), TokenProvider = GetJwtAsync });
/// var lobby = await herald.SubscribeAsync("chat:lobby", MyJson.Default.ChatLine);
/// await herald.PublishAsync("chat:lobby", new ChatLine("hi"), MyJson.Default.ChatLine);
/// await foreach (var line in lobby) Console.WriteLine($"{line.From}: {line.Data.Text}");
/// </code>
/// </example>
public sealed partial class HeraldClient : IAsyncDisposable, SubscriptionBase.IOwner, IConnectorHooks
{
    private readonly HeraldClientOptions options;
    private readonly HttpApi http;
    private readonly Connector connector;
    private readonly Backoff backoff;
    private readonly object gate = new();
    private readonly List<SubscriptionBase> order = [];
    private Dictionary<string, SubscriptionBase> subscriptions = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> serverChannels = new(StringComparer.Ordinal);
    private string[] channels = [];
    private bool explicitConnect;
    private int disposed;

    /// <summary>A client for the server in <see cref="HeraldClientOptions.BaseAddress"/>. Nothing is sent until the first subscription, publish or connect.</summary>
    public HeraldClient(HeraldClientOptions options)
    {
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        var baseAddress = Normalize(options.BaseAddress ?? throw new ArgumentException("BaseAddress is required.", nameof(options)));
        if (options.Transports.Count == 0)
            throw new ArgumentException("Transports must name at least one transport.", nameof(options));
        if (options.PublishAttempts < 1 || options.MaxWebSocketMessageBytes < 1)
            throw new ArgumentException("PublishAttempts and MaxWebSocketMessageBytes must be at least 1.", nameof(options));
        if (options.OpenTimeout <= TimeSpan.Zero || options.RequestTimeout <= TimeSpan.Zero || options.LongPollWait < TimeSpan.FromSeconds(1) || options.PollInterval <= TimeSpan.Zero)
            throw new ArgumentException("OpenTimeout, RequestTimeout and PollInterval must be positive, LongPollWait at least 1 s.", nameof(options));
        backoff = new Backoff(options.Backoff);
        http = new HttpApi(options, baseAddress, new Credentials(options));
        connector = new Connector(options, http, new Planner(options.Transports, backoff, options.Fallback), this);
        Webhooks = new HeraldWebhooks(http);
    }

    /// <summary>A client for <paramref name="baseAddress"/> with default options.</summary>
    public HeraldClient(Uri baseAddress)
        : this(new HeraldClientOptions { BaseAddress = baseAddress })
    {
    }

    /// <summary>Every change of <see cref="State"/>.</summary>
    public event EventHandler<ConnectionState>? StateChanged;

    /// <summary>A connection attempt starts.</summary>
    public event EventHandler<ConnectingEvent>? Connecting;

    /// <summary>A transport is open.</summary>
    public event EventHandler<ConnectedEvent>? Connected;

    /// <summary>The connection closed or failed to open (with the server's close code, and when the next attempt comes).</summary>
    public event EventHandler<DisconnectedEvent>? Disconnected;

    /// <summary>A failure outside any subscription: the token provider threw, an application handler threw.</summary>
    public event EventHandler<HeraldException>? Error;

    /// <summary>Disconnected, connecting, connected or closed.</summary>
    public ConnectionState State => connector.State;

    /// <summary>The transport in use, being opened or tried next; null while idle or closed.</summary>
    public HeraldTransport? Transport => connector.Transport;

    /// <summary>The transports tried, in order.</summary>
    public IReadOnlyList<HeraldTransport> Transports => connector.Transports;

    /// <summary>Webhook subscriptions and deliveries (needs a server API key).</summary>
    public HeraldWebhooks Webhooks { get; }

    IReadOnlyList<string> IConnectorHooks.Channels => Volatile.Read(ref channels);

    bool IConnectorHooks.WantsConnection
    {
        get
        {
            lock (gate)
                return channels.Length > 0 || explicitConnect;
        }
    }

    /// <summary>
    /// Opens the connection now (it opens by itself with the first subscription) and completes once a
    /// transport is open; until then it keeps trying with backoff. Cancel to stop waiting.
    /// </summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        CheckOpen();
        lock (gate)
            explicitConnect = true;
        connector.ChannelsChanged();
        return connector.WaitConnectedAsync(cancellationToken);
    }

    /// <summary>Drops the connection (or the wait before the next attempt) and connects again at once.</summary>
    public void Reconnect()
    {
        CheckOpen();
        connector.Reconnect();
    }

    /// <summary>Tries these transports from now on, in this order, reconnecting at once (one name forces that transport).</summary>
    public void SetTransports(IEnumerable<HeraldTransport> transports)
    {
        CheckOpen();
        connector.Reconnect([.. transports]);
    }

    /// <summary>Follows a channel, its data read with source-generated metadata. Connects if needed; see <see cref="Subscription{T}"/> for delivery.</summary>
    public Subscription<T> Subscribe<T>(string channel, JsonTypeInfo<T> typeInfo, SubscribeOptions? options = null) =>
        Add(channel, options, DataReader<T>.For(typeInfo ?? throw new ArgumentNullException(nameof(typeInfo))));

    /// <summary>Follows a channel, its data read with <see cref="HeraldClientOptions.JsonSerializerOptions"/>.</summary>
    public Subscription<T> Subscribe<T>(string channel, SubscribeOptions? options = null) =>
        Add(channel, options, DataReader<T>.For(this.options.JsonSerializerOptions));

    /// <summary>Follows a channel, its data kept as the server sent it.</summary>
    public Subscription<JsonData> Subscribe(string channel, SubscribeOptions? options = null) =>
        Add(channel, options, RawDataReader.Instance);

    /// <summary>Subscribes and waits until the server confirmed it, so a publish made afterwards is received. Throws the server's refusal.</summary>
    public Task<Subscription<T>> SubscribeAsync<T>(string channel, JsonTypeInfo<T> typeInfo, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        AcknowledgedAsync(Subscribe(channel, typeInfo, options), cancellationToken);

    /// <summary>Subscribes and waits until the server confirmed it (data read with <see cref="HeraldClientOptions.JsonSerializerOptions"/>).</summary>
    public Task<Subscription<T>> SubscribeAsync<T>(string channel, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        AcknowledgedAsync(Subscribe<T>(channel, options), cancellationToken);

    /// <summary>Subscribes (raw data) and waits until the server confirmed it.</summary>
    public Task<Subscription<JsonData>> SubscribeAsync(string channel, SubscribeOptions? options = null, CancellationToken cancellationToken = default) =>
        AcknowledgedAsync(Subscribe(channel, options), cancellationToken);

    /// <summary>The active subscription to <paramref name="channel"/>, if any.</summary>
    public SubscriptionBase? GetSubscription(string channel)
    {
        lock (gate)
            return subscriptions.TryGetValue(channel, out var subscription) ? subscription : null;
    }

    /// <summary>Closes the connection and ends every subscription. The client cannot be used afterwards.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
            return;
        SubscriptionBase[] all;
        lock (gate)
        {
            all = [.. order];
            order.Clear();
            subscriptions = new(StringComparer.Ordinal);
            channels = [];
        }

        await connector.DisposeAsync().ConfigureAwait(false);
        foreach (var subscription in all)
            subscription.End();
        http.Dispose();
    }

    void SubscriptionBase.IOwner.Unsubscribe(SubscriptionBase subscription)
    {
        lock (gate)
        {
            if (!subscriptions.TryGetValue(subscription.Channel, out var current) || !ReferenceEquals(current, subscription))
                return;
            order.Remove(subscription);
            Publish();
        }

        connector.ChannelsChanged();
    }

    void SubscriptionBase.IOwner.HandlerFailed(Exception exception) =>
        ((IConnectorHooks)this).OnError(new HeraldException("handler", $"An application handler threw: {exception.Message}", null, exception));

    private static async Task<Subscription<T>> AcknowledgedAsync<T>(Subscription<T> subscription, CancellationToken cancellationToken)
    {
        try
        {
            await subscription.WaitSubscribedAsync(cancellationToken).ConfigureAwait(false);
            return subscription;
        }
        catch (OperationCanceledException)
        {
            subscription.Unsubscribe();
            throw;
        }
    }

    private Subscription<T> Add<T>(string channel, SubscribeOptions? subscribeOptions, DataReader<T> reader)
    {
        CheckOpen();
        ChannelNames.Check(channel);
        if (subscribeOptions?.Since is { } since && (since.Epoch is null || since.Offset < 0))
            throw new HeraldException("bad_request", "Since must be a position with an epoch and an offset of at least 0.");
        if (GetSubscription(channel) is not null)
            throw AlreadySubscribed(channel);
        var subscription = new Subscription<T>(channel, subscribeOptions?.Since, reader, this, subscribeOptions?.Presence);
        // The application's handlers go on before the server can answer (outside the lock: its code).
        subscribeOptions?.Configure?.Invoke(subscription);
        lock (gate)
        {
            if (subscriptions.ContainsKey(channel))
                throw AlreadySubscribed(channel);
            order.Add(subscription);
            Publish();
        }

        connector.ChannelsChanged();
        return subscription;
    }

    private static HeraldException AlreadySubscribed(string channel) =>
        new("already_subscribed", $"Already subscribed to '{channel}': use that subscription, or unsubscribe first.");

    /// <summary>Publishes the subscription set as snapshots the connection reads without a lock. Under <see cref="gate"/>.</summary>
    private void Publish()
    {
        var map = new Dictionary<string, SubscriptionBase>(StringComparer.Ordinal);
        foreach (var subscription in order)
            map[subscription.Channel] = subscription;
        Volatile.Write(ref subscriptions, map);
        Volatile.Write(ref channels, [.. order.Select(s => s.Channel)]);
    }

    private void CheckOpen()
    {
        if (Volatile.Read(ref disposed) != 0)
            throw new HeraldException("closed", "The client is disposed.");
    }

    private static Uri Normalize(Uri address)
    {
        if (!address.IsAbsoluteUri)
            throw new ArgumentException($"'{address}' is not an absolute URL.", nameof(address));
        var scheme = address.Scheme switch
        {
            "http" or "ws" => "http",
            "https" or "wss" => "https",
            _ => throw new ArgumentException($"'{address}' is not an http(s) or ws(s) URL.", nameof(address)),
        };
        var builder = new UriBuilder(address) { Scheme = scheme, Query = string.Empty, Fragment = string.Empty };
        if (!builder.Path.EndsWith('/'))
            builder.Path += "/";
        return builder.Uri;
    }
}
