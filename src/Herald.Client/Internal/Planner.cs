namespace Herald.Client.Internal;

/// <summary>The next attempt: which transport, and after how long.</summary>
internal readonly record struct Attempt(HeraldTransport Transport, TimeSpan Delay);

/// <summary>Full-jitter exponential backoff (the TypeScript SDK's backoff.ts).</summary>
internal sealed class Backoff
{
    private readonly double initialMs;
    private readonly double maxMs;
    private readonly double multiplier;
    private readonly Func<double> random;

    public Backoff(BackoffOptions options, Func<double>? random = null)
    {
        initialMs = options.Initial.TotalMilliseconds;
        maxMs = options.Max.TotalMilliseconds;
        multiplier = options.Multiplier;
        if (initialMs <= 0 || maxMs < initialMs || multiplier < 1 || double.IsNaN(multiplier))
            throw new ArgumentException("Backoff: Initial must be positive, Max at least Initial, Multiplier at least 1.", nameof(options));
        this.random = random ?? Polyfills.NextDouble;
    }

    public double Ceiling(int attempt) =>
        // Capped before the power overflows: 2^64 × 500 ms is Infinity.
        Math.Min(maxMs, initialMs * Math.Pow(multiplier, Math.Min(Math.Max(attempt, 0), 64)));

    public TimeSpan Delay(int attempt) => TimeSpan.FromMilliseconds(Math.Floor(random() * Ceiling(attempt)));
}

/// <summary>
/// Decides which transport to try next and when, from what happened to the last attempt — the
/// TypeScript SDK's planner.ts, rule for rule. Pure: time comes in, so every rule is unit-tested.
/// </summary>
/// <remarks>
/// - While the server cannot be reached (its <c>/healthz</c> does not answer either), the same
///   transport is retried with backoff: another would fail the same way, and a client should come back
///   on WebSocket after a server restart, not on long polling.
/// - A transport that fails to open while the server answers is skipped at once if it never opened
///   (a proxy that refuses WebSockets refuses them every time); one that opened before gets
///   <c>RetriesPerTransport</c> tries.
/// - A connection cut sooner than <c>StableAfter</c>, <c>CutsBeforeFallback</c> times in a row, counts
///   as not working; one that lived longer resets the count. A close the server explains (3001
///   shutdown, 3008 slow, 3011 idle, …) is not a cut: the transport worked.
/// - After the last transport the round starts again from the first, after a backoff delay.
/// </remarks>
internal sealed class Planner
{
    private readonly Backoff backoff;
    private readonly HashSet<HeraldTransport> proven = [];
    private readonly int retriesPerTransport;
    private readonly int cutsBeforeFallback;
    private readonly long stableAfterMs;
    private HeraldTransport[] order;
    private int index;
    private int failures;
    private int quickCuts;
    private int attempt;
    private long? openedAt;

    public Planner(IEnumerable<HeraldTransport> order, Backoff backoff, FallbackOptions options)
    {
        this.order = CheckOrder(order);
        this.backoff = backoff;
        if (options.RetriesPerTransport < 1 || options.CutsBeforeFallback < 1)
            throw new ArgumentException("Fallback: RetriesPerTransport and CutsBeforeFallback must be at least 1.", nameof(options));
        retriesPerTransport = options.RetriesPerTransport;
        cutsBeforeFallback = options.CutsBeforeFallback;
        stableAfterMs = (long)options.StableAfter.TotalMilliseconds;
    }

    public HeraldTransport Transport => order[index];

    public IReadOnlyList<HeraldTransport> Transports => order;

    public void Reorder(IEnumerable<HeraldTransport> transports)
    {
        order = CheckOrder(transports);
        index = failures = quickCuts = attempt = 0;
        openedAt = null;
    }

    public void Opened(long nowMs)
    {
        proven.Add(Transport);
        failures = 0;
        openedAt = nowMs;
    }

    /// <summary>The attempt failed before the transport opened; <paramref name="serverReachable"/>: the server answered otherwise.</summary>
    public Attempt OpenFailed(bool serverReachable)
    {
        if (!serverReachable)
            return RetrySame();
        failures++;
        var tries = proven.Contains(Transport) ? retriesPerTransport : 1;
        return failures < tries ? RetrySame() : Advance();
    }

    /// <summary>An open connection ended; <paramref name="explained"/>: the server closed it with a reconnect code.</summary>
    public Attempt Closed(long nowMs, bool explained = false)
    {
        var lived = openedAt is { } at ? nowMs - at : 0;
        openedAt = null;
        if (lived >= stableAfterMs || explained)
        {
            quickCuts = 0;
            if (lived >= stableAfterMs)
                attempt = 0;
            return RetrySame();
        }

        quickCuts++;
        return quickCuts < cutsBeforeFallback ? RetrySame() : Advance();
    }

    private Attempt RetrySame() => new(Transport, backoff.Delay(attempt++));

    private Attempt Advance()
    {
        failures = quickCuts = 0;
        index = (index + 1) % order.Length;
        // A transport not tried yet in this round is tried at once; a new round waits.
        return index != 0 ? new Attempt(Transport, TimeSpan.Zero) : new Attempt(Transport, backoff.Delay(attempt++));
    }

    private static HeraldTransport[] CheckOrder(IEnumerable<HeraldTransport> order)
    {
        var unique = order.Distinct().ToArray();
        if (unique.Length == 0)
            throw new ArgumentException("Transports must name at least one transport.", nameof(order));
        foreach (var transport in unique)
        {
            if (transport is < HeraldTransport.WebSocket or > HeraldTransport.Poll)
                throw new ArgumentException($"Unknown transport {transport}.", nameof(order));
        }

        return unique;
    }
}
