using System.Diagnostics.Metrics;
using System.Net;
using Herald.Diagnostics;
using Herald.Hub;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Transports.LongPoll;

/// <summary>
/// Counts held long polls, on this node and per client IP address, against
/// <see cref="TransportOptions.MaxHeldPolls"/> and <see cref="TransportOptions.MaxHeldPollsPerIp"/>.
/// Exact under concurrency: a slot is taken only if both counts stay within their caps, and a
/// refused attempt leaves both counts as they were.
/// </summary>
/// <remarks>
/// The per-IP counts sit in 16 lock-striped dictionaries; an address is removed when its count
/// returns to 0, so the table holds only clients that hold a poll right now.
/// </remarks>
internal sealed partial class PollLimiter
{
    /// <summary>
    /// 5 s: a held poll of the same client ends within its <c>wait</c> (25 s by default), and
    /// a client told to retry in 1 s would mostly meet the same refusal.
    /// </summary>
    public const int RetryAfterSeconds = 5;

    private readonly IOptionsMonitor<HeraldOptions> _options;
    private readonly ILogger _logger;
    private readonly AddressSlots _slots = new();
    private readonly Counter<long>? _rejected;

    /// <param name="options">The caps, read on every poll so a reload applies at once.</param>
    /// <param name="logger">Logs refusals at Debug.</param>
    /// <param name="meters">When present (the host registers one), the held count and refusals are published on the <c>Herald</c> meter.</param>
    public PollLimiter(IOptionsMonitor<HeraldOptions> options, ILogger<PollLimiter> logger, IMeterFactory? meters = null)
    {
        _options = options;
        _logger = logger;

        if (meters is not null)
        {
            // From the factory, not static: the meter (and this instance it observes) goes with the container.
            var meter = meters.Create(HeraldMetrics.MeterName);
            meter.CreateObservableGauge("herald.poll.held", () => Held, "{poll}", "Long polls held open on this node");
            _rejected = meter.CreateCounter<long>("herald.poll.rejected", "{poll}", "Long polls answered 429 because a held-poll cap was reached");
        }
    }

    /// <summary>Long polls holding a slot on this node now.</summary>
    public int Held => _slots.Total;

    /// <summary>Takes a slot for <paramref name="address"/>; false (and nothing taken) when a cap is reached.</summary>
    /// <param name="address">The client's address; null (a non-IP transport) counts as one shared client.</param>
    /// <param name="limit">Which cap refused, when false: <c>ip</c> or <c>node</c>.</param>
    public bool TryAcquire(IPAddress? address, out string limit)
    {
        var options = _options.CurrentValue.Transports;
        var key = Normalize(address);
        if (_slots.TryAcquire(key, options.MaxHeldPolls, options.MaxHeldPollsPerIp, out limit))
            return true;
        Refused(key, limit, limit == "node" ? options.MaxHeldPolls : options.MaxHeldPollsPerIp);
        return false;
    }

    /// <summary>Gives back a slot taken by <see cref="TryAcquire"/> for the same address.</summary>
    public void Release(IPAddress? address) => _slots.Release(Normalize(address));

    /// <summary>Held polls of one address (for tests and diagnostics).</summary>
    public int HeldBy(IPAddress? address) => _slots.CountOf(Normalize(address));

    private void Refused(IPAddress key, string limit, int cap)
    {
        _rejected?.Add(1);
        Log.PollRefused(_logger, key, limit, cap);
    }

    // ::ffff:127.0.0.1 and 127.0.0.1 are one client on a dual-stack socket.
    private static IPAddress Normalize(IPAddress? address) =>
        address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1600, Level = LogLevel.Debug, EventName = "PollRefused",
            Message = "A long poll from {Address} was refused: the {Limit} cap of {Cap} held polls is reached.")]
        public static partial void PollRefused(ILogger logger, IPAddress address, string limit, int cap);
    }
}
