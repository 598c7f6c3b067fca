using System.Globalization;
using System.Net;
using System.Text.Json;
using Herald.Client.Internal;

namespace Herald.Client.Transports;

/// <summary>
/// <c>GET /v1/poll</c>: long polling (<c>wait</c> &gt; 0) or short polling (<c>wait=0</c>, every
/// <see cref="HeraldClientOptions.PollInterval"/>), stateless on the server — the cursor is the whole
/// session (docs/protocol.md#long-polling-and-short-polling--get-v1poll).
/// </summary>
/// <remarks>
/// The first poll of a channel is always <c>wait=0</c>: it answers at once with the channel's position
/// (or its replay), so the session opens without waiting out a long poll. A change of the channel set
/// cuts a held poll short. A short poll of one channel sends the last ETag, so an unchanged channel
/// costs a bodiless 304.
/// </remarks>
internal sealed class PollSession(SessionContext context, bool longPoll) : TransportSession(longPoll ? HeraldTransport.LongPoll : HeraldTransport.Poll, context)
{
    /// <summary>The server's <c>Retry-After</c> for <c>too_many_polls</c> (5 s).</summary>
    private static readonly TimeSpan TooManyPollsPause = TimeSpan.FromSeconds(5);

    private readonly HashSet<string> confirmed = new(StringComparer.Ordinal);
    private readonly object gate = new();
    private CancellationTokenSource? current;
    private bool restart;
    private string? etag;

    public override async Task<SessionEnd> RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var channels = Sink.Channels;
            using var request = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lock (gate)
            {
                current = request;
                restart = false;
            }

            if (channels.Count == 0)
            {
                if (!IsOpen)
                {
                    var idle = await PushSession.IdleAsync(Context, Opened, () => true, request.Token).ConfigureAwait(false);
                    if (cancellationToken.IsCancellationRequested || !IsOpen)
                        return idle;
                    continue;
                }

                // The client ends a session with no channel; until it does, there is nothing to ask.
                await Pause(Timeout.InfiniteTimeSpan, request.Token).ConfigureAwait(false);
                continue;
            }

            confirmed.RemoveWhere(c => !channels.Contains(c));
            var fresh = channels.Any(c => !confirmed.Contains(c));
            var wait = Name == HeraldTransport.LongPoll && !fresh ? (int)Options.LongPollWait.TotalSeconds : 0;
            var query = PushSession.ChannelQuery(Sink, channels);
            query.Add(new("wait", wait.ToString(CultureInfo.InvariantCulture)));
            var conditional = Name == HeraldTransport.Poll && !fresh && channels.Count == 1 && etag is not null;
            byte[]? body;
            HttpResponseMessage response;
            try
            {
                (response, body) = await Context.Http.SendJsonAsync(
                    HttpMethod.Get, "v1/poll" + HttpApi.Query(query), null, request.Token, conditional ? [new("If-None-Match", etag!)] : null, TimeSpan.FromSeconds(wait) + Options.RequestTimeout).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (Restarting())
                    continue;
                return new SessionEnd("closed");
            }
            catch (HeraldException e)
            {
                if (e.Code == "too_many_polls" && IsOpen)
                {
                    await Pause(TooManyPollsPause, request.Token).ConfigureAwait(false);
                    continue;
                }

                return new SessionEnd(IsOpen ? $"poll failed ({e.Message})" : $"failed to open ({e.Message})", Error: e);
            }

            using (response)
            {
                Kick();
                Opened();
                var more = false;
                if (body is not null)
                {
                    etag = channels.Count == 1 ? response.Headers.ETag?.ToString() : null;
                    Options.WireObserver?.Invoke(Name, body);
                    SessionEnd? end;
                    (end, more) = Deliver(body);
                    if (end is not null)
                        return end;
                }
                else if (response.StatusCode != HttpStatusCode.NotModified)
                {
                    return new SessionEnd("unreadable answer", Error: HeraldException.Invalid("an empty poll answer"));
                }

                if (Name == HeraldTransport.Poll && !more)
                    await Pause(Options.PollInterval, request.Token).ConfigureAwait(false);
            }
        }

        return new SessionEnd("closed");
    }

    public override void ChannelsChanged()
    {
        lock (gate)
        {
            restart = true;
            current?.Cancel();
        }
    }

    private bool Restarting()
    {
        lock (gate)
            return restart;
    }

    private static async Task Pause(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A change of channels, or the end: the loop looks at which.
        }
    }

    /// <summary>Reports an answer; <c>more</c>: the server has more right away.</summary>
    private (SessionEnd? End, bool More) Deliver(byte[] answer)
    {
        var more = false;
        try
        {
            // The first answer of a channel is its subscribe reply; later ones matter only as resets.
            foreach (var (channel, reply) in Replies.ChannelReplies(answer))
            {
                if (confirmed.Contains(channel) && reply.Recovered)
                    continue;
                confirmed.Add(channel);
                Sink.Subscribed(channel, reply);
            }

            var reader = new Utf8JsonReader(answer);
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("more"u8))
                {
                    reader.Read();
                    more = reader.TokenType == JsonTokenType.True;
                    continue;
                }

                if (!reader.ValueTextEquals("publications"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                    throw HeraldException.Invalid("'publications' is not an array");
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var end = Dispatch(answer.AsSpan(start, (int)reader.BytesConsumed - start), MessageType.Publication, observe: false);
                    if (end is not null)
                        return (end, false);
                }
            }
        }
        catch (Exception e) when (e is JsonException or HeraldException or InvalidOperationException)
        {
            return (new SessionEnd($"unreadable answer: {e.Message}", Error: HeraldException.Invalid(e.Message)), false);
        }

        return (null, more);
    }
}
