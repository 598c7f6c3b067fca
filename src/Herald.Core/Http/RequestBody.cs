using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Herald.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Herald.Http;

/// <summary>What became of reading a request body.</summary>
internal enum BodyStatus
{
    /// <summary>Read whole, within the limit.</summary>
    Read,

    /// <summary>Larger than the limit: answer 413; nothing of it is held.</summary>
    TooLarge,

    /// <summary>Could not be read (a malformed chunked encoding, a client that stopped sending): answer 400 <see cref="RequestBody.Unreadable"/>.</summary>
    Unreadable,
}

/// <summary>A buffered body, still in the request's pipe when <see cref="Status"/> is <see cref="BodyStatus.Read"/>.</summary>
internal readonly record struct BufferedBody(BodyStatus Status, ReadOnlySequence<byte> Body, string? Error);

/// <summary>Reading request bodies with a limit, for every endpoint that takes one.</summary>
internal static partial class RequestBody
{
    // One warning per 10 s at most: anyone can send malformed bodies as fast as they like.
    private static readonly LogThrottle s_unreadableLog = new(TimeSpan.FromSeconds(10));

    /// <summary>Whether the Content-Type is JSON in UTF-8 (<c>application/json</c> or <c>…+json</c>).</summary>
    public static bool IsJson(string? contentType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Buffers the whole body in the request's pipe, without copying it. When it was read the
    /// caller reads the sequence and then calls <see cref="PipeReader.AdvanceTo(SequencePosition)"/>
    /// with its end. Past <paramref name="limit"/> bytes nothing is held. A body that cannot be read
    /// (Kestrel's <see cref="BadHttpRequestException"/> or <see cref="IOException"/>: a malformed
    /// chunked encoding, a body that stopped arriving) is the client's fault, not the server's: it is logged as a warning without
    /// a stack, one line per 10 s, and answered 400 <c>invalid_body</c> by the caller.
    /// </summary>
    public static async ValueTask<BufferedBody> BufferAsync(HttpContext context, int limit)
    {
        var reader = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(context.RequestAborted);
                var buffer = read.Buffer;
                if (buffer.Length > limit)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    return new BufferedBody(BodyStatus.TooLarge, default, null);
                }

                if (read.IsCompleted)
                    return new BufferedBody(BodyStatus.Read, buffer, null);

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException)
        {
            // IOException: Kestrel wraps some decoding failures in it (a chunk size that overflows).
            if (s_unreadableLog.TryEnter(out var suppressed))
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Herald.Http.RequestBody");
                Log.Unreadable(logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Connection.RemoteIpAddress, e.Message, suppressed);
            }

            return new BufferedBody(BodyStatus.Unreadable, default, e.Message);
        }
    }

    /// <summary>The whole body as one array (for the few readers that need contiguous bytes); null unless <see cref="BodyStatus.Read"/>.</summary>
    public static async ValueTask<(byte[]? Bytes, BufferedBody Read)> ReadArrayAsync(HttpContext context, int limit)
    {
        var read = await BufferAsync(context, limit);
        if (read.Status != BodyStatus.Read)
            return (null, read);
        var bytes = read.Body.ToArray();
        context.Request.BodyReader.AdvanceTo(read.Body.End);
        return (bytes, read);
    }

    /// <summary>The answer to an unreadable body.</summary>
    public static IResult Unreadable(BufferedBody read) =>
        Problems.InvalidBody($"The request body could not be read: {read.Error}");

    // Event ids 2620–2629: request bodies.
    private static partial class Log
    {
        [LoggerMessage(EventId = 2620, Level = LogLevel.Warning, EventName = "RequestBodyUnreadable",
            Message = "The body of {Method} {Path} from {Address} could not be read ({Reason}); answered 400 invalid_body. {Suppressed} more since the last line.")]
        public static partial void Unreadable(ILogger logger, string method, string path, IPAddress? address, string reason, long suppressed);
    }
}
