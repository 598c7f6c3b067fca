using System.Net.WebSockets;

namespace Herald.LoadGen;

/// <summary>
/// Reads whole WebSocket messages into one growing buffer: the receive loop every target's client
/// shares (Herald, SignalR, Socket.IO), so only their parsing differs.
/// </summary>
internal sealed class MessageReader(ClientWebSocket socket, int bufferBytes)
{
    private byte[] _buffer = new byte[bufferBytes];

    /// <summary>
    /// Receives the next whole message after the first <paramref name="keep"/> bytes of the buffer
    /// (what the caller moved there with <see cref="Keep"/>), and returns all of it; null when the
    /// server closed, with the reason in <see cref="Subscriber.Error"/>.
    /// </summary>
    public async ValueTask<Memory<byte>?> ReceiveAsync(Subscriber subscriber, int keep, CancellationToken cancellationToken)
    {
        var length = keep;
        while (true)
        {
            if (length == _buffer.Length)
                Array.Resize(ref _buffer, _buffer.Length * 2);
            var result = await socket.ReceiveAsync(_buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                subscriber.Error ??= $"closed by the server: {socket.CloseStatus} {socket.CloseStatusDescription}";
                return null;
            }

            length += result.Count;
            if (result.EndOfMessage)
                return _buffer.AsMemory(0, length);
        }
    }

    /// <summary>Moves <paramref name="rest"/> (a tail of the last message) to the buffer's start; returns its length for the next <see cref="ReceiveAsync"/>.</summary>
    public int Keep(ReadOnlySpan<byte> rest)
    {
        rest.CopyTo(_buffer);
        return rest.Length;
    }
}
