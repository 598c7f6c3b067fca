namespace Herald.Transports.WebSocket;

/// <summary>
/// Reads the RFC 6455 frame headers of a connection's inbound bytes as they pass to the framework's
/// WebSocket, so that a message announced larger than <see cref="TransportOptions.MaxWebSocketMessageBytes"/>
/// is refused (1009) on its header, instead of after the first 64 KiB of a payload announced as
/// 2^40 bytes have been read and buffered.
/// </summary>
/// <remarks>
/// The framework's WebSocket exposes no frame lengths, so the guard parses them from the stream
/// it reads (§5.2: 2 bytes, then 2 or 8 bytes of extended length, then the 4-byte mask key) and
/// skips payloads. Data frames count toward their message (a fragmented message's continuation
/// frames add up); control frames do not. One small object per connection, no buffer.
/// </remarks>
internal sealed class InboundFrameGuard(int maxMessageBytes)
{
    private long _payloadLeft;
    private long _messageBytes;
    private long _lengthAccumulator;
    private int _headerBytesSeen;
    private int _headerLength;
    private byte _first;
    private byte _second;

    /// <summary>
    /// Told as soon as a header passes the limit — from inside the WebSocket's read, which then
    /// waits for a payload that may never come, so the connection closes from here.
    /// </summary>
    public WebSocketConnection? Owner { get; set; }

    /// <summary>Data messages whose first frame header has been read.</summary>
    public long MessagesStarted { get; private set; }

    /// <summary>The number (1-based, as <see cref="MessagesStarted"/>) of the first message announced too large; <see cref="long.MaxValue"/> while none was.</summary>
    public long ExceededAt { get; private set; } = long.MaxValue;

    /// <summary>Whether message number <paramref name="message"/> (1-based) or an earlier one was announced too large.</summary>
    public bool Refuses(long message) => ExceededAt <= message;

    /// <summary>Follows <paramref name="bytes"/>, the next bytes read from the client.</summary>
    public void Inspect(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && ExceededAt == long.MaxValue)
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, bytes.Length);
                _payloadLeft -= skip;
                bytes = bytes[skip..];
                continue;
            }

            var b = bytes[0];
            bytes = bytes[1..];
            switch (_headerBytesSeen++)
            {
                case 0:
                    _first = b;
                    _lengthAccumulator = 0;
                    continue;
                case 1:
                    _second = b;
                    var length7 = b & 0x7F;
                    _headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((b & 0x80) != 0 ? 4 : 0);
                    if (length7 < 126)
                        _lengthAccumulator = length7;
                    break;
                default:
                    var extended = (_second & 0x7F) == 126 ? 2 : (_second & 0x7F) == 127 ? 8 : 0;
                    if (_headerBytesSeen - 2 <= extended)
                        _lengthAccumulator = (_lengthAccumulator << 8) | b;
                    break;
            }

            if (_headerBytesSeen == _headerLength)
                EndHeader();
        }
    }

    private void EndHeader()
    {
        _headerBytesSeen = 0;

        // A 64-bit length with its top bit set is a protocol error the WebSocket itself refuses.
        var length = _lengthAccumulator < 0 ? long.MaxValue : _lengthAccumulator;
        var opcode = _first & 0x0F;
        if (opcode < 0x8)
        {
            if (opcode != 0)
            {
                MessagesStarted++;
                _messageBytes = 0;
            }

            // Saturating: a continuation frame announcing 2^63 or more must not wrap the message's total below the limit.
            _messageBytes = length > long.MaxValue - _messageBytes ? long.MaxValue : _messageBytes + length;
            if (_messageBytes > maxMessageBytes)
            {
                ExceededAt = Math.Max(MessagesStarted, 1);
                Owner?.OnMessageAnnouncedTooBig();
                return;
            }
        }

        _payloadLeft = length;
    }

}
