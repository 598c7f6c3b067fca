using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using Herald.Auth;
using Herald.Http;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Herald.Transports.WebSocket;

/// <summary>
/// Serves a connection whose first request is a valid WebSocket upgrade to <c>/v1/ws</c> below the
/// HTTP layer: the handshake is answered on the connection itself and the framework's WebSocket
/// (<see cref="System.Net.WebSockets.WebSocket.CreateFromStream(Stream, System.Net.WebSockets.WebSocketCreationOptions)"/>)
/// runs straight on the transport's pipes. An idle socket then holds no HTTP/1.1 connection,
/// request, response, header collections, hosting activity or middleware state for its whole
/// life — about 6 KB per connection, a third of an idle WebSocket's footprint.
/// </summary>
/// <remarks>
/// Only the happy path is taken here, with the same Origin and credential checks as the endpoint.
/// Anything else — another path, a malformed or refused upgrade, a request this parser does not
/// fully understand — is handed, untouched, to the HTTP pipeline, whose <c>/v1/ws</c> endpoint
/// answers it with the documented problem responses. So behaviour does not depend on the path.
/// On a TLS endpoint this runs after the handshake, on the decrypted bytes, for connections whose
/// ALPN chose HTTP/1.1; HTTP/2 connections go to the HTTP pipeline at once.
/// </remarks>
internal sealed class WebSocketFastPath(ConnectionDelegate next, WebSocketServices services, KestrelServerLimits limits)
{
    /// <summary>A browser's upgrade request is well under 2 KiB; 8 KiB as Kestrel's default request line + headers budget would be far larger.</summary>
    private const int MaxHeadBytes = 8 * 1024;

    private static readonly byte[] s_prefix = "GET /v1/ws"u8.ToArray();
    private static readonly byte[] s_headEnd = "\r\n\r\n"u8.ToArray();

    private enum Outcome
    {
        /// <summary>Not (or not whole) a <c>/v1/ws</c> upgrade this path takes: the HTTP pipeline reads the same bytes.</summary>
        HandOff,

        /// <summary>Answered 101: the WebSocket runs on the connection.</summary>
        Accepted,

        /// <summary>Timed out, or the client left: the connection ends here.</summary>
        Closed,
    }

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        // HTTP/2 (ALPN h2): WebSockets arrive as extended CONNECT streams (RFC 8441), which the
        // HTTP pipeline's /v1/ws endpoint accepts; only an HTTP/1.1 upgrade is taken here.
        if (connection.Features.Get<ITlsApplicationProtocolFeature>() is { } alpn && alpn.ApplicationProtocol.Span.SequenceEqual(SslApplicationProtocol.Http2.Protocol.Span))
        {
            await next(connection);
            return;
        }

        // Two steps, so that nothing of the handshake (its text, headers, checks) stays reachable
        // from this frame for the connection's whole life; Start returns the connection's own
        // task, so only this frame and the connection's are live while it idles.
        var (outcome, caller, personalSince) = await TryHandshakeAsync(connection);
        if (outcome == Outcome.Accepted)
            await Start(connection, caller, personalSince);
        else if (outcome == Outcome.HandOff)
            await next(connection);
    }

    /// <summary>Answers the upgrade with 101 when it passes every check.</summary>
    private async Task<(Outcome Outcome, Caller Caller, PersonalPositions? PersonalSince)> TryHandshakeAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var (outcome, text, length) = await PeekHeadAsync(connection);
        if (outcome != Outcome.Accepted)
            return (outcome, default, null);

        var secure = connection.Features.Get<ITlsHandshakeFeature>() is not null;
        var request = TryParse(text!, (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address, secure);
        if (request is null || await WebSocketEndpoint.CheckRequestAsync(request, services) is not (null, var caller, var personalSince))
            return (Outcome.HandOff, default, null);

        // The head is still in the pipe, unconsumed and unexamined, so this read returns it at once.
        var read = await input.ReadAsync(connection.ConnectionClosed);
        input.AdvanceTo(read.Buffer.GetPosition(length));
        await WriteSwitchingProtocolsAsync(connection.Transport.Output, request.Headers.SecWebSocketKey.ToString());
        return (Outcome.Accepted, caller, personalSince);
    }

    /// <summary>Runs the framework's WebSocket on the connection's pipes; the returned task owns and disposes it.</summary>
    private Task Start(ConnectionContext connection, Caller caller, PersonalPositions? personalSince)
    {
        var frames = new PipeFrameWriter(connection.Transport.Output);
        var guard = new InboundFrameGuard(services.Options.Transports.MaxWebSocketMessageBytes);
        var socket = System.Net.WebSockets.WebSocket.CreateFromStream(
            new DuplexPipeStream(connection.Transport, frames, guard),
            new System.Net.WebSockets.WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });

        // Kestrel asks connections to close when the server stops (the registry has already sent
        // 3001 by then); a client that vanishes ends the read with the socket.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? connection.ConnectionClosed;
        return new WebSocketConnection(socket, caller, services, frames, guard, personalSince).RunAsync(closing);
    }

    /// <summary>
    /// Reads until the first request's head is complete, consuming nothing. <see cref="Outcome.Accepted"/>
    /// with the head when it is a whole <c>GET /v1/ws</c> head; <see cref="Outcome.HandOff"/> when
    /// it is not one (or not within the limit): the HTTP pipeline then reads the same bytes.
    /// </summary>
    /// <remarks>
    /// Kestrel's own timeouts start only once the HTTP pipeline has the connection, so this wait
    /// applies the same ones, read from <see cref="KestrelServerLimits"/> so that one setting governs
    /// both: <see cref="KestrelServerLimits.KeepAliveTimeout"/> (130 s) for the first byte, then
    /// <see cref="KestrelServerLimits.RequestHeadersTimeout"/> (30 s) for the whole head. A client that
    /// sends nothing is closed; one that sent part of a head is answered <c>408 request_timeout</c>.
    /// The timer lives only while the head is awaited: an accepted WebSocket holds none.
    /// </remarks>
    private async Task<(Outcome Outcome, string? Text, long Length)> PeekHeadAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        deadline.CancelAfter(limits.KeepAliveTimeout);
        var started = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                if (started && !connection.ConnectionClosed.IsCancellationRequested)
                    await AnswerTimeoutAsync(connection);
                return (Outcome.Closed, null, 0);
            }

            var buffer = result.Buffer;
            if (!started && !buffer.IsEmpty)
            {
                started = true;
                deadline.CancelAfter(limits.RequestHeadersTimeout);
            }

            var prefix = Math.Min(buffer.Length, s_prefix.Length);
            var matches = buffer.Slice(0, prefix).ToArray().AsSpan().SequenceEqual(s_prefix.AsSpan(0, (int)prefix));
            var reader = new SequenceReader<byte>(buffer);
            if (matches && reader.TryReadTo(out ReadOnlySequence<byte> headers, s_headEnd) && headers.Length + 4 <= MaxHeadBytes)
            {
                var length = headers.Length + 4;
                var text = Encoding.Latin1.GetString(buffer.Slice(0, length));
                input.AdvanceTo(buffer.Start);
                return (Outcome.Accepted, text, length);
            }

            if (!matches || buffer.Length >= MaxHeadBytes || result.IsCompleted || result.IsCanceled)
            {
                // Consumed and examined nothing: the HTTP pipeline's first read returns these bytes at once.
                input.AdvanceTo(buffer.Start);
                return (Outcome.HandOff, null, 0);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static async Task AnswerTimeoutAsync(ConnectionContext connection)
    {
        try
        {
            await RawResponse.WriteProblemAsync(connection.Transport.Output, 408, "Request Timeout", "request_timeout", "Request timeout",
                "The request head did not arrive within the request headers timeout (Kestrel:Limits:RequestHeadersTimeout).");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ConnectionResetException or OperationCanceledException)
        {
            // The client left first.
        }
    }

    /// <summary>A request the fast path can take whole, or null (the head as read: up to and including its blank line).</summary>
    internal static HttpRequest? TryParse(string head, System.Net.IPAddress? remoteAddress, bool secure = false)
    {
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[0] != "GET" || requestLine[2] != "HTTP/1.1")
            return null;

        var target = requestLine[1];
        if (!IsVisibleAscii(target))
            return null;
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        if (path != WebSocketEndpoint.Path)
            return null;

        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = HttpMethods.Get;
        request.Scheme = secure ? "https" : "http";
        request.Path = path;
        request.QueryString = question < 0 ? QueryString.Empty : new QueryString(target[question..]);
        context.Connection.RemoteIpAddress = remoteAddress;
        foreach (var line in lines.AsSpan(1))
        {
            if (line.Length == 0)
                continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || line[0] is ' ' or '\t')
                return null;
            // Kestrel refuses a name that is not a token and a value holding a control character
            // (400); so must this parser, or the fast path would take what the HTTP path refuses
            // (and HostString throws on a Host holding one).
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (!IsToken(name) || HasControlCharacter(value) || request.Headers.ContainsKey(name))
                return null;
            request.Headers[name] = value;
        }

        // Kestrel refuses a Host that is not a plain authority; HostString would try IDN mapping on it.
        var host = request.Headers.Host.ToString();
        if (!IsVisibleAscii(host))
            return null;
        request.Host = new HostString(host);
        var headers = request.Headers;
        var isUpgrade = request.Host.HasValue
            && !headers.ContainsKey("Content-Length") && !headers.ContainsKey("Transfer-Encoding")
            && Contains(headers.Upgrade, "websocket") && Contains(headers.Connection, "upgrade")
            && headers.SecWebSocketVersion == "13"
            && IsValidKey(headers.SecWebSocketKey);
        return isUpgrade ? request : null;
    }

    private static async ValueTask WriteSwitchingProtocolsAsync(PipeWriter output, string key)
    {
        // RFC 6455 §4.2.2: the accept value is base64(SHA-1(key + the protocol's GUID)). SHA-1 is
        // what the protocol prescribes here; it proves the server speaks WebSocket, it secures nothing.
#pragma warning disable CA5350
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        var response = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n";
        await output.WriteAsync(Encoding.ASCII.GetBytes(response));
    }

    private static bool Contains(StringValues values, string token)
    {
        foreach (var value in values)
        {
            foreach (var part in (value ?? string.Empty).Split(','))
            {
                if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }

        return false;
    }

    /// <summary>RFC 9110 §5.6.2: a header name is 1 or more tchar.</summary>
    private static bool IsToken(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
                return false;
        }

        return name.Length > 0;
    }

    /// <summary>RFC 9110 §5.5: a field value holds no control character but HTAB (nor, read as Latin-1, a C1 control).</summary>
    private static bool HasControlCharacter(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && c != '\t')
                return true;
        }

        return false;
    }

    private static bool IsVisibleAscii(string text)
    {
        foreach (var c in text)
        {
            if (c is <= ' ' or >= '\x7f')
                return false;
        }

        return true;
    }

    private static bool IsValidKey(StringValues key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Count == 1 && Convert.TryFromBase64String(key.ToString(), decoded, out var written) && written == 16;
    }
}

/// <summary>Opts a Kestrel endpoint into <see cref="WebSocketFastPath"/>.</summary>
public static class WebSocketFastPathExtensions
{
    /// <summary>Serves WebSocket connections to <c>/v1/ws</c> below the HTTP layer (see docs/protocol.md); other traffic is unchanged.</summary>
    public static ListenOptions UseHeraldWebSockets(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var services = listen.ApplicationServices.GetRequiredService<WebSocketServices>();
        var limits = listen.KestrelServerOptions.Limits;
        listen.Use(next => new WebSocketFastPath(next, services, limits).OnConnectedAsync);
        return listen;
    }
}
