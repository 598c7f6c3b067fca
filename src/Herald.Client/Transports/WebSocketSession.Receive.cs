using System.Buffers;
using System.Net.WebSockets;
using Herald.Client.Internal;

namespace Herald.Client.Transports;

/// <summary>The reading half: frames into lines, lines into messages.</summary>
internal sealed partial class WebSocketSession
{
    /// <summary>64 KiB: the server's frames are at most about that (it coalesces up to 64 KiB), so one buffer usually holds one.</summary>
    private const int InitialBuffer = 64 * 1024;

    private async Task<SessionEnd?> ReceiveAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
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

                ValueWebSocketReceiveResult received;
                try
                {
                    received = await client.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return cancellationToken.IsCancellationRequested && connection?.IsCancellationRequested == true ? null : new SessionEnd("closed");
                }
                catch (WebSocketException e)
                {
                    return new SessionEnd($"connection lost ({e.Message})");
                }

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    var code = (int?)client.CloseStatus;
                    var reason = string.IsNullOrEmpty(client.CloseStatusDescription) ? string.Empty : " " + client.CloseStatusDescription;
                    return new SessionEnd($"server closed ({code}{reason})", code);
                }

                Kick();
                length += received.Count;
                if (!received.EndOfMessage)
                    continue;
                var end = await HandleFrameAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                length = 0;
                if (end is not null)
                    return end;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A frame may carry several messages separated by '\n' (docs/protocol.md#frames).</summary>
    private async ValueTask<SessionEnd?> HandleFrameAsync(ReadOnlyMemory<byte> frame)
    {
        var pongs = 0;
        var rest = frame;
        while (!rest.IsEmpty)
        {
            var newline = rest.Span.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? ReadOnlyMemory<byte>.Empty : rest[(newline + 1)..];
            if (line.IsEmpty)
                continue;
            var end = HandleLine(line.Span, ref pongs);
            if (end is not null)
                return end;
        }

        for (; pongs > 0; pongs--)
        {
            try
            {
                await SendAsync(Pong).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                return new SessionEnd($"send failed ({e.Message})");
            }
        }

        return null;
    }

    private SessionEnd? HandleLine(ReadOnlySpan<byte> line, ref int pongs)
    {
        Options.WireObserver?.Invoke(Name, line);
        if (!TryParse(line, out var message, out var failure))
            return failure;
        switch (message.Type)
        {
            case MessageType.Publication:
            case MessageType.ChannelEvent:
                return Route(ref message, line);
            case MessageType.Ping:
                pongs++;
                return null;
        }

        if (message.RequestId is not { } id)
            return ServerSide(ref message, line);
        string? subscribed = null;
        lock (gate)
        {
            if (subscribeIds.Remove(id, out var channel))
            {
                // An answer to a subscribe the client has dropped since (or sent again) is stale.
                if (!carried.TryGetValue(channel, out var current) || current != id)
                    return null;
                if (message.Type == MessageType.Error)
                    carried.Remove(channel);
                subscribed = channel;
            }
            else if (pending.Remove(id, out var waiter))
            {
                if (message.Type == MessageType.Error)
                    waiter.TrySetException(Replies.Error(line));
                else
                    waiter.TrySetResult(line.ToArray());
                return null;
            }
        }

        // The sink runs application handlers: never under the session's lock.
        if (subscribed is null)
            return null;
        if (message.Type == MessageType.Subscribed)
            Sink.Subscribed(subscribed, new SubscribeReply(message.Recovered, System.Text.Encoding.ASCII.GetString(message.Epoch), message.Offset, message.Typing));
        else if (message.Type == MessageType.Error)
            Sink.ChannelRefused(subscribed, Replies.Error(line));
        return null;
    }

    /// <summary>
    /// What the server sends unasked: <c>subscribed</c> for a channel it subscribed at connect (an
    /// answer to our own subscribe of it is stale from then on; one the client does not want is left
    /// again), and <c>unsubscribed</c> when its API took the connection off a channel.
    /// </summary>
    private SessionEnd? ServerSide(ref WireMessage message, ReadOnlySpan<byte> line)
    {
        if (message.Channel is not { } channel)
            return null;
        if (message.Type == MessageType.Subscribed)
        {
            lock (gate)
                carried[channel] = ByServer;
            Sink.Subscribed(channel, new SubscribeReply(message.Recovered, System.Text.Encoding.ASCII.GetString(message.Epoch), message.Offset), byServer: true);
            ChannelsChanged();
        }
        else if (message.Type == MessageType.Unsubscribed)
        {
            lock (gate)
                carried.Remove(channel);
            Sink.Unsubscribed(channel, Replies.Reason(line));
        }

        return null;
    }

    private static string Describe(Exception e) => e is OperationCanceledException ? "timed out" : e.Message;

    private static HeraldException HandshakeError(ClientWebSocket client, Exception e)
    {
#if NETSTANDARD2_1
        _ = client;
#else
        var status = (int)client.HttpStatusCode;
        if (status >= 400)
        {
            var code = status switch
            {
                401 => "unauthorized",
                403 => "forbidden",
                426 => "upgrade_required",
                _ => "http_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            return new HeraldException(code, $"The WebSocket handshake was refused with {status}.", status, e);
        }
#endif
        return new HeraldException(e is OperationCanceledException ? "timeout" : "network", $"The WebSocket did not open: {Describe(e)}", null, e);
    }
}
