using System.Net;
using System.Text;
using Herald.Transports.WebSocket;

namespace Herald.Fuzz.Targets;

/// <summary>
/// The WebSocket fast path's request head: the input (prefixed with <c>GET /v1/ws</c> when it does
/// not start so, cut after its first blank line, as the fast path reads it) through its parser.
/// The fast path may take only a head the HTTP layer would accept: anything else is handed to
/// Kestrel, which refuses it with a 400.
/// </summary>
internal sealed class WebSocketHeadTarget : IFuzzTarget
{
    private const string Prefix = "GET /v1/ws";

    public string Name => "ws-head";

    public string Description => "WebSocketFastPath.TryParse(request head); an accepted head is a well-formed RFC 9112 GET /v1/ws upgrade";

    public void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.Latin1.GetString(input);
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
            text = Prefix + text;
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        text = end < 0 ? text + "\r\n\r\n" : text[..(end + 4)];

        var request = WebSocketFastPath.TryParse(text, IPAddress.Loopback);
        if (request is null)
            return;

        Check.That(request.Path == "/v1/ws", $"Accepted path {request.Path}.");
        var lines = text[..^4].Split("\r\n");
        var requestLine = lines[0].Split(' ');
        Check.That(requestLine.Length == 3 && requestLine[0] == "GET" && requestLine[2] == "HTTP/1.1", "Accepted a malformed request line.");
        Check.That(requestLine[1].All(c => c is > ' ' and < '\x7f'), $"Accepted a request target with a control, space or non-ASCII character: {Show(requestLine[1])}.");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            Check.That(colon > 0, $"Accepted a header line without a name: {Show(line)}.");
            var name = line[..colon];
            Check.That(name.All(IsTokenChar), $"Accepted a header name that is not an RFC 9110 token: {Show(name)}.");
            Check.That(names.Add(name), $"Accepted a repeated header {name}.");
            var value = line[(colon + 1)..];
            Check.That(!value.Any(c => c is < ' ' and not '\t' or '\x7f'), $"Accepted a control character in the value of {name}: {Show(value)}.");
        }

        Check.That(!names.Contains("Content-Length") && !names.Contains("Transfer-Encoding"), "Accepted an upgrade that announces a body.");
        Check.That(request.Host.HasValue && request.Host.Value!.All(c => c is > ' ' and < '\x7f'), $"Accepted a missing or non-ASCII Host: {Show(request.Host.Value ?? "")}.");
    }

    /// <summary>RFC 9110 §5.6.2 tchar.</summary>
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private static string Show(string text) => Check.Show(Encoding.Latin1.GetBytes(text));
}

/// <summary>
/// One WebSocket text message (a client op) through the op parser, then the reply the connection
/// would send for it: a parse error, or for an op naming a channel, that channel's validation error.
/// </summary>
internal sealed class WebSocketMessageTarget : IFuzzTarget
{
    public string Name => "ws-message";

    public string Description => "WebSocketRequest.TryParse(client op) + the error reply; never throws, data is one JSON value, every reply is one line of portable JSON";

    public void Run(ReadOnlySpan<byte> input)
    {
        var message = input.ToArray();
        if (!WebSocketRequest.TryParse(message, out var request, out var id, out var error))
        {
            Check.That(error.Length > 0, "A refused message has no error.");
            Reply(WebSocketReplies.Error(id, WebSocketCodes.BadRequest, error));
            return;
        }

        Check.That(request.OpText is not null, "An accepted message has no op.");
        if (request.Data is { } data)
        {
            Check.That(data.Length > 0, "An accepted message locates empty data.");
            // The publish service checks data as JSON; here it must at least be what the reader skipped: one value.
            _ = Publishing.JsonData.TryCompact(data, out _, out _);
        }

        if (request.Channel is { } channel && !Channels.ChannelName.TryValidate(channel, out var channelError))
            Reply(WebSocketReplies.Error(request.Id, WebSocketCodes.InvalidChannel, channelError));
        if (request.Op == WebSocketOp.Unknown)
            Reply(WebSocketReplies.Error(request.Id, WebSocketCodes.UnknownOp, $"Unknown op '{request.OpText}'."));
        Reply(WebSocketReplies.Pong(request.Id));
    }

    private static void Reply(ReadOnlyMemory<byte> reply)
    {
        Check.That(reply.Span.IndexOfAny((byte)'\n', (byte)'\r') < 0, "A reply holds a raw line break.");
        Check.PortableJson(reply.Span, "A reply");
    }
}

/// <summary>
/// A client's inbound bytes through the frame guard that refuses oversized messages on their header
/// (limit 1,000 bytes). The guard must agree with a plain RFC 6455 §5.2 reading of the same bytes, and
/// must not depend on how the bytes were split into reads (the first input byte picks the split).
/// </summary>
internal sealed class WebSocketFramesTarget : IFuzzTarget
{
    private const int Limit = 1000;

    public string Name => "ws-frames";

    public string Description => "InboundFrameGuard.Inspect(frames, any read split); refuses exactly the messages a reference RFC 6455 reading announces over the limit";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        var chunk = input[0] % 17 + 1;
        var frames = input[1..];

        var whole = new InboundFrameGuard(Limit);
        whole.Inspect(frames);
        var split = new InboundFrameGuard(Limit);
        for (var i = 0; i < frames.Length; i += chunk)
            split.Inspect(frames.Slice(i, Math.Min(chunk, frames.Length - i)));

        Check.That(whole.ExceededAt == split.ExceededAt && whole.MessagesStarted == split.MessagesStarted,
            $"Read whole: message {whole.ExceededAt} of {whole.MessagesStarted} refused; in reads of {chunk}: {split.ExceededAt} of {split.MessagesStarted}.");

        var (exceededAt, started) = Reference(frames);
        Check.That(whole.ExceededAt == exceededAt, $"The guard refuses message {whole.ExceededAt}, the reference {exceededAt}.");
        Check.That(exceededAt != long.MaxValue || whole.MessagesStarted == started, $"The guard counts {whole.MessagesStarted} messages, the reference {started}.");
    }

    /// <summary>RFC 6455 §5.2, read plainly: which message (1-based) first announces more than the limit.</summary>
    private static (long ExceededAt, long Started) Reference(ReadOnlySpan<byte> bytes)
    {
        long started = 0;
        var message = 0m;
        var at = 0;
        while (at + 2 <= bytes.Length)
        {
            var opcode = bytes[at] & 0x0F;
            var length7 = bytes[at + 1] & 0x7F;
            var masked = (bytes[at + 1] & 0x80) != 0;
            var extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            var headerLength = 2 + extended + (masked ? 4 : 0);
            if (at + headerLength > bytes.Length)
                break;
            var length = (decimal)length7;
            if (extended > 0)
            {
                length = 0;
                for (var i = 0; i < extended; i++)
                    length = length * 256 + bytes[at + 2 + i];
            }

            if (opcode < 0x8)
            {
                if (opcode != 0)
                {
                    started++;
                    message = 0;
                }

                message += length;
                if (message > Limit)
                    return (Math.Max(started, 1), started);
            }

            if (length > bytes.Length - at - headerLength)
                break;
            at += headerLength + (int)length;
        }

        return (long.MaxValue, started);
    }
}
