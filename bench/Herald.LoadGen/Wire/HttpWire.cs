using System.Buffers.Text;
using System.Diagnostics;

namespace Herald.LoadGen.Wire;

/// <summary>
/// HTTP/1.1 bodies over a <see cref="Connection"/>: a chunked or Content-Length body handed to a
/// <see cref="RecordSplitter"/> piece by piece as it arrives, without copying — one endless body
/// (SSE, NDJSON) or one whole answer (a poll).
/// </summary>
internal static class HttpWire
{
    public static ValueTask GetAsync(Connection connection, Endpoint endpoint, string pathAndQuery, string? extraHeaders, CancellationToken cancellationToken) =>
        connection.SendAsync($"GET {pathAndQuery} HTTP/1.1\r\nHost: {endpoint.HostPort}\r\n{extraHeaders}\r\n", cancellationToken);

    public static ValueTask PostAsync(Connection connection, Endpoint endpoint, string pathAndQuery, string contentType, string body, CancellationToken cancellationToken) =>
        connection.SendAsync(
            $"POST {pathAndQuery} HTTP/1.1\r\nHost: {endpoint.HostPort}\r\nContent-Type: {contentType}\r\nContent-Length: {System.Text.Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}",
            cancellationToken);

    /// <summary>
    /// Reads the body that follows <paramref name="head"/> into <paramref name="splitter"/>; returns
    /// when it ended (true), or false when the server closed the connection first.
    /// </summary>
    public static async Task<bool> ReadBodyAsync(Connection connection, HttpHead head, RecordSplitter splitter, IRecordSink sink, Subscriber? subscriber, CancellationToken cancellationToken)
    {
        if (head.Bodiless || (!head.Chunked && head.ContentLength == 0))
        {
            splitter.Feed([], true, sink, Stopwatch.GetTimestamp());
            return true;
        }

        var remaining = head.Chunked ? 0 : head.ContentLength; // chunked: bytes left in the current chunk
        var trailer = false; // chunked: the CRLF after a chunk's data is next
        var now = Stopwatch.GetTimestamp();
        while (true)
        {
            var before = subscriber?.Received ?? 0;
            while (true)
            {
                if (remaining > 0)
                {
                    if (!connection.FeedUnread(ref remaining, !head.Chunked, splitter, sink, now))
                        break;
                    if (!head.Chunked && remaining == 0)
                    {
                        subscriber?.CountFrame(ref before);
                        return true;
                    }
                    trailer = head.Chunked && remaining == 0;
                    continue;
                }

                if (!head.Chunked)
                    break;
                var unread = connection.Unread;
                if (trailer)
                {
                    if (unread.Length < 2)
                        break;
                    connection.Consume(2);
                    trailer = false;
                    continue;
                }

                // Chunk size line: hex digits (extensions, if any, are ignored), CRLF.
                var line = unread.IndexOf("\r\n"u8);
                if (line < 0)
                    break;
                if (!Utf8Parser.TryParse(unread[..line], out long size, out _, 'X'))
                    throw new IOException("Malformed chunk size.");
                connection.Consume(line + 2);
                if (size == 0)
                {
                    // The last chunk: its CRLF (no trailers are sent to us) ends the body.
                    while (connection.Unread.Length < 2)
                    {
                        if (!await connection.ReceiveAsync(cancellationToken))
                            return false;
                    }

                    connection.Consume(2);
                    splitter.Feed([], true, sink, now);
                    subscriber?.CountFrame(ref before);
                    return true;
                }

                remaining = size;
            }

            subscriber?.CountFrame(ref before);
            if (!await connection.ReceiveAsync(cancellationToken))
                return false;
            now = Stopwatch.GetTimestamp();
        }
    }
}
