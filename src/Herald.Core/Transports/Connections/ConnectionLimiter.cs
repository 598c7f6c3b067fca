using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Herald.Diagnostics;
using Herald.Http;
using Herald.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Transports.Connections;

/// <summary>
/// Counts this node's open connections, in all and per client address, against
/// <see cref="ConnectionOptions"/>: a slot is taken only if both counts stay within their caps,
/// and a refused attempt leaves both as they were (as <see cref="LongPoll.PollLimiter"/> does for polls).
/// </summary>
internal sealed partial class ConnectionLimiter
{
    // A refusal line per 10 s at most: a flood of refused connections is one attacker's doing,
    // and one line with a count says as much as a line per connection.
    private static readonly TimeSpan s_logInterval = TimeSpan.FromSeconds(10);

    private static readonly Counter<long> s_refused = HeraldMetrics.Meter.CreateCounter<long>(
        "herald.connections.refused", "{connection}", "Connections refused because a connection limit was reached (tag limit: ip or node)");

    private readonly ILogger _logger;
    private readonly AddressSlots _slots = new();
    private readonly LogThrottle _throttle = new(s_logInterval);
    private int _refusing;

    public ConnectionLimiter(IOptions<HeraldOptions> options, ILogger<ConnectionLimiter> logger)
    {
        _logger = logger;

        var settings = options.Value.Connections;
        var nofile = FileDescriptorLimit.Current;
        MaxConnections = settings.EffectiveMaxConnections(nofile?.Soft);
        MaxConnectionsPerIp = settings.MaxConnectionsPerIp > 0 ? settings.MaxConnectionsPerIp : int.MaxValue;

        // Refusals wait up to RefusalGrace for the request head before answering, holding a
        // descriptor meanwhile: at most a quarter of the reserve does so, the rest are closed at once.
        MaxRefusing = Math.Max(1, settings.ReservedFileDescriptors / 4);

        if (nofile is { } limit)
            Log.Limits(_logger, MaxConnections, settings.MaxConnections > 0 ? "Herald:Connections:MaxConnections" : "nofile minus Herald:Connections:ReservedFileDescriptors", settings.MaxConnectionsPerIp, limit.Soft, limit.Hard);
        else
            Log.LimitsWithoutNofile(_logger, settings.MaxConnections, settings.MaxConnectionsPerIp);
    }

    /// <summary>How long a refused connection may take to send its request head before it is answered and closed.</summary>
    public static TimeSpan RefusalGrace { get; } = TimeSpan.FromSeconds(2);

    public int MaxConnections { get; }

    public int MaxConnectionsPerIp { get; }

    public int MaxRefusing { get; }

    /// <summary>Connections holding a slot now.</summary>
    public int Open => _slots.Total;

    /// <summary>Takes a slot for <paramref name="address"/>; false (nothing taken) when a cap is reached, with <paramref name="limit"/> <c>ip</c> or <c>node</c>.</summary>
    public bool TryAcquire(IPAddress? address, out string limit)
    {
        var key = Normalize(address);
        if (_slots.TryAcquire(key, MaxConnections, MaxConnectionsPerIp, out limit))
            return true;
        Refused(key, limit, limit == "node" ? MaxConnections : MaxConnectionsPerIp);
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryAcquire"/> for the same address.</summary>
    public void Release(IPAddress? address) => _slots.Release(Normalize(address));

    /// <summary>Connections of one address (for tests and diagnostics).</summary>
    public int OpenFrom(IPAddress? address) => _slots.CountOf(Normalize(address));

    /// <summary>Whether a refused connection may linger to be answered; pair a true with <see cref="EndRefusal"/>.</summary>
    public bool TryBeginRefusal()
    {
        if (Interlocked.Increment(ref _refusing) <= MaxRefusing)
            return true;
        Interlocked.Decrement(ref _refusing);
        return false;
    }

    public void EndRefusal() => Interlocked.Decrement(ref _refusing);

    private void Refused(IPAddress key, string limit, int cap)
    {
        s_refused.Add(1, new KeyValuePair<string, object?>("limit", limit));
        if (_throttle.TryEnter(out var suppressed))
            Log.Refused(_logger, key, limit, cap, suppressed);
    }

    /// <summary>
    /// The counting key of an address: ::ffff:127.0.0.1 and 127.0.0.1 are one client on a
    /// dual-stack socket, and an IPv6 client is its /64, since one subscriber line gets a whole /64.
    /// </summary>
    internal static IPAddress Normalize(IPAddress? address)
    {
        if (address is null)
            return IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    // Event ids 2600–2619: connection limits.
    private static partial class Log
    {
        [LoggerMessage(EventId = 2600, Level = LogLevel.Information, EventName = "ConnectionLimits",
            Message = "Connections: at most {MaxConnections} on this node (from {Source}), {MaxConnectionsPerIp} per client address (0: no limit); open-file limit (nofile) {Soft} soft, {Hard} hard.")]
        public static partial void Limits(ILogger logger, int maxConnections, string source, int maxConnectionsPerIp, long soft, long hard);

        [LoggerMessage(EventId = 2601, Level = LogLevel.Warning, EventName = "ConnectionLimitsWithoutNofile",
            Message = "The open-file limit (nofile) could not be read; connections are limited only by Herald:Connections:MaxConnections ({MaxConnections}, 0: none) and {MaxConnectionsPerIp} per client address.")]
        public static partial void LimitsWithoutNofile(ILogger logger, int maxConnections, int maxConnectionsPerIp);

        [LoggerMessage(EventId = 2602, Level = LogLevel.Warning, EventName = "ConnectionRefused",
            Message = "A connection from {Address} was refused: the {Limit} limit of {Cap} connections is reached ({Suppressed} more refusals since the last line).")]
        public static partial void Refused(ILogger logger, IPAddress address, string limit, int cap, long suppressed);
    }
}
