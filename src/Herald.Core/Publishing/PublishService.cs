using System.Buffers;
using Herald.Auth;
using Herald.Channels;
using Herald.Diagnostics;
using Herald.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Herald.Publishing;

/// <summary>
/// The one way a publication enters the log, whatever its entry point (HTTP publish, the WebSocket
/// <c>publish</c> op, inbound webhooks, the server API): validate the channel, check the
/// namespace's policy for the caller, check the type, the idempotency key and the size, compact
/// the JSON once, append. Each entry point only parses its own envelope and maps the
/// <see cref="PublishResult"/> to its own reply.
/// </summary>
public sealed partial class PublishService(
    IChannelLog log,
    IOptions<HeraldOptions> options,
    ILogger<PublishService>? logger = null,
    Typing.TypingService? typing = null,
    TimeProvider? time = null,
    Reading.UnreadService? unread = null)
{
    /// <summary>64: long enough for a dotted event name, short enough to index.</summary>
    public const int MaxTypeLength = 64;

    /// <summary>128: room for a UUID or a hash with a prefix; anything longer is a client bug.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    private static readonly LogThrottle s_unavailableLog = new(TimeSpan.FromSeconds(10));
    private readonly HeraldOptions _options = options.Value;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private readonly ActionCheck _actions = new(log);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Checks and appends <paramref name="request"/>; never throws for bad input, only for an unexpected engine failure.</summary>
    public async ValueTask<PublishResult> PublishAsync(PublishRequest request, CancellationToken cancellationToken = default)
    {
        var channel = request.Channel;
        if (!ChannelName.TryValidate(channel, out var channelError))
            return PublishResult.Failed(PublishError.InvalidChannel, channelError);

        var policy = _options.PolicyFor(channel);
        if (ChannelAccess.Check(_options, channel, request.Caller, ChannelOperation.Publish) is { } denial)
            return PublishResult.Failed(denial.Status switch { 400 => PublishError.InvalidChannel, 401 => PublishError.Unauthorized, _ => PublishError.Forbidden }, denial.Message, denial.Canonical);

        if (request.Type is { } type && !IsValidType(type))
            return PublishResult.Failed(PublishError.InvalidType, $"'type' must be 1 to {MaxTypeLength} characters.");

        if (request.IdempotencyKey is { } key && !IsValidIdempotencyKey(key))
            return PublishResult.Failed(PublishError.InvalidIdempotencyKey, $"The idempotency key must be 1 to {MaxIdempotencyKeyLength} printable ASCII characters.");

        // Refused before any work when even the raw text is far over the limit: compaction removes
        // whitespace only, and no publication shrinks to a quarter by that.
        var maxBytes = request.MaxDataBytes ?? policy.MaxMessageBytes;
        if (request.Data.Length > 4L * maxBytes)
            return TooLarge(maxBytes);

        if (!JsonData.TryCompact(request.Data, out var data, out var dataError))
            return PublishResult.Failed(PublishError.InvalidData, $"'data' is not valid: {dataError}");

        if (data.Length > maxBytes)
            return TooLarge(maxBytes);

        if (await _actions.CheckAsync(request, policy, data, cancellationToken).ConfigureAwait(false) is { } refused)
            return refused;

        var meta = request.Meta;
        IReadOnlyList<string>? mentions = null;
        if (request.Mentions is { Count: > 0 })
        {
            if (!Mentions.TryCheck(request.Mentions, _options.Unread.MaxMentionsPerMessage, out var users, out var mentionsError))
                return PublishResult.Failed(PublishError.InvalidMentions, mentionsError);
            mentions = users;
            meta ??= Mentions.ToMeta(users);
        }

        var append = new AppendRequest(
            channel,
            data,
            policy.ToRetention(request.IdempotencyWindow ?? _options.IdempotencyWindow),
            From: request.From ?? request.Caller.User,
            request.Type,
            request.IdempotencyKey,
            meta,
            Countable: policy.IsCountable(request.Type));

        AppendResult result;
        try
        {
            result = await log.AppendAsync(append, cancellationToken).ConfigureAwait(false);
        }
        catch (EngineUnavailableException e)
        {
            HeraldMetrics.EngineUnavailable.Add(1);
            // An outage refuses every publish: one line per interval says so, with the count held back.
            if (s_unavailableLog.TryEnter(out var suppressed))
                Log.EngineUnavailable(_logger, channel, e.Message, suppressed);
            return PublishResult.Failed(PublishError.EngineUnavailable, e.Message);
        }

        if (result.KeyReused)
        {
            return new PublishResult(result.Publication, Duplicate: true, PublishError.IdempotencyKeyReused,
                $"The idempotency key '{request.IdempotencyKey}' was used on '{channel}' for a different request (other data, type or publisher); use a new key for a new message.");
        }

        // The author's marker moves past their own message; the mentioned users are told.
        if (unread is not null && !result.Duplicate)
            await unread.OnPublishedAsync(result.Publication, mentions).ConfigureAwait(false);
        if (!result.Duplicate)
            OnAppended(result.Publication, policy);

        // A message ends its author's typing on the channel.
        if (typing is not null && policy.Typing && !result.Duplicate)
            await typing.OnPublishedAsync(channel, append.From, cancellationToken).ConfigureAwait(false);
        return new PublishResult(result.Publication, result.Duplicate, PublishError.None, string.Empty);
    }

    public static bool IsValidType(string type) => type.Length is > 0 and <= MaxTypeLength;

    public static bool IsValidIdempotencyKey(string key)
    {
        if (key.Length is 0 or > MaxIdempotencyKeyLength)
            return false;
        foreach (var c in key)
        {
            if (c is < '!' or > '~')
                return false;
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, EventName = "EngineUnavailable",
            Message = "A publish to '{Channel}' was refused: the engine cannot be reached ({Failure}). Answered 503 engine_unavailable; nothing was stored. ({Suppressed} more refused since the last such line.)")]
        public static partial void EngineUnavailable(ILogger logger, string channel, string failure, long suppressed);
    }

    private static PublishResult TooLarge(int maxBytes) =>
        PublishResult.Failed(PublishError.TooLarge, $"The message is larger than the limit of {maxBytes} bytes.");
}

/// <summary>A publish as its entry point parsed it: the envelope's fields, the data still raw.</summary>
public readonly record struct PublishRequest
{
    public required string Channel { get; init; }

    /// <summary>Who publishes; <see cref="Caller.Server"/> for inbound webhooks (their signature was verified).</summary>
    public required Caller Caller { get; init; }

    /// <summary>The data value's JSON text as received (validated and compacted by the service).</summary>
    public required ReadOnlySequence<byte> Data { get; init; }

    public string? Type { get; init; }

    public string? IdempotencyKey { get; init; }

    /// <summary>The publication's <c>from</c> when it is not the caller's user (inbound webhooks: <c>webhook:&lt;source&gt;</c>).</summary>
    public string? From { get; init; }

    /// <summary>Server-set facts about the publication's origin (compact JSON object).</summary>
    public byte[]? Meta { get; init; }

    /// <summary>The users the publication mentions (<c>mentions</c>): each gets a mention in their unread counts; listed in the publication's <c>meta</c>.</summary>
    public IReadOnlyList<string>? Mentions { get; init; }

    /// <summary>How long the key is remembered when not <see cref="HeraldOptions.IdempotencyWindow"/> (inbound webhooks' dedupe window).</summary>
    public TimeSpan? IdempotencyWindow { get; init; }

    /// <summary>The size limit of the compact data when not the namespace's <c>MaxMessageBytes</c> (inbound webhooks: the source's <c>MaxBodyBytes</c>).</summary>
    public int? MaxDataBytes { get; init; }
}

/// <summary>What went wrong with a publish; each entry point answers it with its own code.</summary>
public enum PublishError
{
    None,
    InvalidChannel,
    Unauthorized,
    Forbidden,
    InvalidData,
    InvalidType,
    InvalidIdempotencyKey,
    TooLarge,

    /// <summary>The key was used for another request; <see cref="PublishResult.Publication"/> is the original.</summary>
    IdempotencyKeyReused,

    /// <summary>The engine is unreachable; nothing was appended and a retry with the same key is safe.</summary>
    EngineUnavailable,

    /// <summary><c>mentions</c> names too many users, or a user id that cannot be one.</summary>
    InvalidMentions,
    // Actions on messages and threads (ActionCheck; codes in ActionErrors).
    ReservedType,
    InvalidAction,
    MessageNotFound,
    NotAuthor,
    EditsDisabled,
    ReactionsDisabled,
    ThreadsDisabled,
}

/// <param name="Publication">The appended publication, or the original one for a duplicate; null on error (but for <see cref="PublishError.IdempotencyKeyReused"/>).</param>
/// <param name="Duplicate">The idempotency key was used already: the original is returned, nothing appended.</param>
/// <param name="Error">What went wrong, or <see cref="PublishError.None"/>.</param>
/// <param name="Message">A sentence for the client when <paramref name="Error"/> is set.</param>
/// <param name="Canonical">For a direct channel not spelled canonically (<see cref="PublishError.InvalidChannel"/>): the name to use.</param>
public readonly record struct PublishResult(Publication? Publication, bool Duplicate, PublishError Error, string Message, string? Canonical = null)
{
    public bool Succeeded => Error == PublishError.None;

    internal static PublishResult Failed(PublishError error, string message, string? canonical = null) => new(null, false, error, message, canonical);
}
