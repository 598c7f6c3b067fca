using System.Buffers;
using Herald.Client.Internal;

namespace Herald.Client.Transports;

/// <summary>
/// <c>GET /v1/sse</c> and <c>GET /v1/stream</c>: every channel in one long response read line by line.
/// Opens when the headers say 200, stays alive while lines arrive (the server's heartbeat comes every
/// 15 s), ends when the response does or with the server's <c>disconnect</c>. The channel set is fixed
/// per request: a change ends the session for a quiet reconnect with the new set and the current positions.
/// </summary>
internal abstract class PushSession(HeraldTransport name, SessionContext context, string path, string accept) : TransportSession(name, context)
{
    private readonly object gate = new();
    private CancellationTokenSource? connection;
    private bool resync;

    public override async Task<SessionEnd> RunAsync(CancellationToken cancellationToken)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (gate)
            connection = lifetime;
        var channels = Sink.Channels;
        if (channels.Count == 0)
            return await IdleAsync(Context, Opened, () => Volatile.Read(ref resync), lifetime.Token).ConfigureAwait(false);

        HttpResponseMessage response;
        try
        {
            response = await Context.Http.SendAsync(
                HttpMethod.Get, path + HttpApi.Query(ChannelQuery(Sink, channels, presence: true)), null, [new("Accept", accept)], Options.OpenTimeout, streaming: true, lifetime.Token).ConfigureAwait(false);
        }
        catch (HeraldException e)
        {
            return new SessionEnd($"failed to open ({e.Message})", Error: e);
        }
        catch (OperationCanceledException)
        {
            return Ended();
        }

        using (response)
        {
            Opened();
            var watchdog = WatchAsync(lifetime);
            SessionEnd? end;
            try
            {
                using var body = await response.Content.ReadAsStreamAsync(lifetime.Token).ConfigureAwait(false);
                end = await ReadAsync(body, lifetime.Token).ConfigureAwait(false) ?? new SessionEnd("the server ended the response");
            }
            catch (OperationCanceledException)
            {
                end = null;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException)
            {
                end = lifetime.IsCancellationRequested ? null : new SessionEnd($"connection lost ({e.Message})");
            }

            var silent = !lifetime.IsCancellationRequested ? false : await watchdog.ConfigureAwait(false);
            lifetime.Cancel();
            await watchdog.ConfigureAwait(false);
            return end ?? (silent ? new SessionEnd("no heartbeat from the server") : Ended());
        }
    }

    public override void ChannelsChanged()
    {
        lock (gate)
        {
            resync = true;
            connection?.Cancel();
        }
    }

    /// <summary>One line, without its line break.</summary>
    protected abstract SessionEnd? Line(ReadOnlySpan<byte> line);

    /// <summary>
    /// The query of an SSE, streaming or poll request: every channel, and a cursor holding the positions
    /// the client knows (a channel without one starts live).
    /// </summary>
    /// <param name="sink">The client's channels.</param>
    /// <param name="channels">The channels of the request.</param>
    /// <param name="presence">SSE and streaming: the highest presence mode the channels ask for (the server takes one for all), and each list's position.</param>
    internal static List<KeyValuePair<string, string>> ChannelQuery(ITransportSink sink, IReadOnlyList<string> channels, bool presence = false)
    {
        var query = new List<KeyValuePair<string, string>>(channels.Count + 2);
        List<KeyValuePair<string, Position>>? known = null;
        PresenceMode? mode = null;
        List<KeyValuePair<string, string>>? resume = null;
        foreach (var channel in channels)
        {
            query.Add(new("channel", channel));
            if (sink.PositionOf(channel) is { } position)
                (known ??= []).Add(new(channel, position));
            if (!presence || sink.PresenceOf(channel) is not { } asked)
                continue;
            mode = mode is { } highest && highest > asked.Mode ? highest : asked.Mode;
            if (asked.Since is { } since)
                (resume ??= []).Add(new("presenceSince", $"{since.Epoch}.{since.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{channel}"));
        }

        if (known is not null)
            query.Add(new("cursor", HeraldCursor.Encode(known)));
        if (mode is { } chosen)
        {
            query.Add(new("presence", ModeName(chosen)));
            if (chosen == PresenceMode.List && resume is not null)
                query.AddRange(resume);
        }

        return query;
    }

    internal static string ModeName(PresenceMode mode) => mode switch
    {
        PresenceMode.Enter => "enter",
        PresenceMode.Count => "count",
        PresenceMode.List => "list",
        _ => "off",
    };

    /// <summary>No channel to carry (an explicit connect): open once the server answers, then wait for channels.</summary>
    internal static async Task<SessionEnd> IdleAsync(SessionContext context, Action opened, Func<bool> resync, CancellationToken cancellationToken)
    {
        if (!await context.Http.ServerAnswersAsync(cancellationToken).ConfigureAwait(false))
            return cancellationToken.IsCancellationRequested ? new SessionEnd("closed", Resync: resync()) : new SessionEnd("failed to open (the server does not answer)");
        opened();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Channels came, or the client is closing.
        }

        return new SessionEnd("channels changed", Resync: resync());
    }

    private SessionEnd Ended() => Volatile.Read(ref resync) ? new SessionEnd("channels changed", Resync: true) : new SessionEnd("closed");

    /// <summary>Reads UTF-8 lines ('\n' ends a line; a '\r' before it is dropped) until the response ends.</summary>
    private async Task<SessionEnd?> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                    return null;
                Kick();
                var scanFrom = length;
                length += read;
                var start = 0;
                var newline = buffer.AsSpan(scanFrom, length - scanFrom).IndexOf((byte)'\n');
                while (newline >= 0)
                {
                    var end = scanFrom + newline;
                    var line = buffer.AsSpan(start, end - start);
                    if (!line.IsEmpty && line[^1] == (byte)'\r')
                        line = line[..^1];
                    var result = Line(line);
                    if (result is not null)
                        return result;
                    start = scanFrom = end + 1;
                    newline = buffer.AsSpan(scanFrom, length - scanFrom).IndexOf((byte)'\n');
                }

                if (start > 0)
                {
                    buffer.AsSpan(start, length - start).CopyTo(buffer);
                    length -= start;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary><c>GET /v1/stream</c>: NDJSON, one message per line, each with its <c>type</c>.</summary>
internal sealed class StreamSession(SessionContext context) : PushSession(HeraldTransport.Stream, context, "v1/stream", "application/x-ndjson")
{
    protected override SessionEnd? Line(ReadOnlySpan<byte> line) => line.IsEmpty ? null : Dispatch(line);
}

/// <summary>
/// <c>GET /v1/sse</c>: the text/event-stream format — <c>event:</c>, <c>data:</c> and <c>id:</c> fields, an
/// event dispatched at each blank line, comments (the heartbeat) kept only as signs of life. The
/// <c>id:</c> (the server's cursor) is not needed: the client tracks positions itself.
/// </summary>
internal sealed class SseSession(SessionContext context) : PushSession(HeraldTransport.Sse, context, "v1/sse", "text/event-stream")
{
    private readonly ArrayBufferWriter<byte> data = new(4096);
    private MessageType eventType;

    protected override SessionEnd? Line(ReadOnlySpan<byte> line)
    {
        Options.WireObserver?.Invoke(Name, line);
        if (line.IsEmpty)
        {
            var type = eventType;
            eventType = MessageType.Unknown;
            if (data.WrittenCount == 0)
                return null;
            var end = type == MessageType.Unknown ? null : Dispatch(data.WrittenSpan, type, observe: false);
            data.Clear();
            return end;
        }

        if (line[0] == (byte)':')
            return null;
        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
            value = value[1..];
        if (field.SequenceEqual("data"u8))
        {
            if (data.WrittenCount > 0)
                data.Write("\n"u8);
            data.Write(value);
        }
        else if (field.SequenceEqual("event"u8))
        {
            eventType = value.SequenceEqual("publication"u8) ? MessageType.Publication
                : value.SequenceEqual("subscribed"u8) ? MessageType.Subscribed
                : value.SequenceEqual("unsubscribed"u8) ? MessageType.Unsubscribed
                : value.SequenceEqual("disconnect"u8) ? MessageType.Disconnect
                : value.StartsWith("presence"u8) || value.SequenceEqual("typing"u8) || value.SequenceEqual("signal"u8) ? MessageType.ChannelEvent
                : MessageType.Unknown;
        }

        return null;
    }
}
