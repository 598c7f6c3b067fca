using System.Buffers;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Microsoft.Extensions.Options;

namespace Herald.Publishing;

/// <summary>
/// Signals: client events sent to a channel's current subscribers on every node, never stored and
/// never numbered (docs/protocol.md, "Signals"). Checks the namespace allows them, the sender may
/// subscribe to the channel, the name, the size and the sender's rate; stamps <c>from</c>; hands the
/// message to the broker. Each entry point (the WebSocket <c>signal</c> op, <c>POST
/// /v1/channels/{channel}/signals</c>) maps the <see cref="SignalResult"/> to its own reply.
/// </summary>
public sealed class SignalService(IBroker broker, IOptions<HeraldOptions> options)
{
    /// <summary>The event kind signals travel as between nodes, and their SSE event name.</summary>
    public const string EventKind = "signal";

    /// <summary>64: like a publication's type.</summary>
    public const int MaxNameLength = 64;

    private readonly HeraldOptions _options = options.Value;

    /// <param name="limiter">The sender's buckets; null for server API keys, which are not limited.</param>
    /// <param name="rateKey">The bucket's key in <paramref name="limiter"/> (the channel, or the caller and the channel).</param>
    public async ValueTask<SignalResult> SendAsync(string channel, Caller caller, string? name, ReadOnlySequence<byte> data, SignalRateLimiter? limiter, string rateKey, CancellationToken cancellationToken = default)
    {
        if (!ChannelName.TryValidate(channel, out var channelError))
            return new(SignalError.InvalidChannel, channelError);
        if (ChannelAccess.Check(_options, channel, caller, ChannelOperation.Subscribe) is { } denial)
            return new(denial.Status switch { 400 => SignalError.InvalidChannel, 401 => SignalError.Unauthorized, _ => SignalError.Forbidden }, denial.Message, denial.Canonical);

        var policy = _options.PolicyFor(channel);
        if (!policy.Signals)
            return new(SignalError.Disabled, $"Signals are off on '{channel}': its namespace does not enable them (Herald:Namespaces:{ChannelName.NamespaceOf(channel)}:Signals).");
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
            return new(SignalError.InvalidName, $"'name' is required: 1 to {MaxNameLength} characters.");
        if (data.Length > 4L * policy.MaxSignalBytes)
            return new(SignalError.TooLarge, $"The signal's data is larger than the limit of {policy.MaxSignalBytes} bytes.");
        if (!JsonData.TryCompact(data, out var compact, out var dataError))
            return new(SignalError.InvalidData, $"'data' is not valid: {dataError}");
        if (compact.Length > policy.MaxSignalBytes)
            return new(SignalError.TooLarge, $"The signal's data is larger than the limit of {policy.MaxSignalBytes} bytes.");
        if (caller.Kind != CallerKind.Server && limiter is not null && !limiter.TryTake(rateKey, policy.SignalsPerSecond))
            return new(SignalError.RateLimited, $"More than {policy.SignalsPerSecond} signals per second on '{channel}'; this one was dropped.");

        try
        {
            await broker.PublishEventAsync(new ChannelEvent(channel, EventKind, Encode(channel, name, caller.User, compact)), cancellationToken).ConfigureAwait(false);
        }
        catch (EngineUnavailableException e)
        {
            return new(SignalError.EngineUnavailable, e.Message);
        }

        return new(SignalError.None, string.Empty);
    }

    /// <summary><c>{"type":"signal","channel":…,"name":…,"from":…,"data":…}</c>: what every subscriber receives.</summary>
    private static byte[] Encode(string channel, string name, string? from, ReadOnlyMemory<byte> data)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + channel.Length + name.Length + data.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, EventKind);
            writer.WriteString("channel"u8, channel);
            writer.WriteString("name"u8, name);
            if (from is not null)
                writer.WriteString("from"u8, from);
            writer.WritePropertyName("data"u8);
            writer.WriteRawValue(data.Span, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>What went wrong with a signal; each entry point answers it with its own code.</summary>
public enum SignalError
{
    None,
    InvalidChannel,
    Unauthorized,
    Forbidden,

    /// <summary>The namespace does not enable signals.</summary>
    Disabled,
    InvalidName,
    InvalidData,
    TooLarge,
    RateLimited,
    EngineUnavailable,
}

/// <param name="Canonical">For a direct channel not spelled canonically: the name to use.</param>
public readonly record struct SignalResult(SignalError Error, string Message, string? Canonical = null);
