using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Herald.Http;

/// <summary>Reading request bodies with a limit, for every endpoint that takes one.</summary>
internal static class RequestBody
{
    /// <summary>Whether the Content-Type is JSON in UTF-8 (<c>application/json</c> or <c>…+json</c>).</summary>
    public static bool IsJson(string? contentType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Buffers the whole body in the request's pipe, without copying it, and returns it; the caller
    /// reads the sequence and then calls <see cref="PipeReader.AdvanceTo(SequencePosition)"/> with
    /// its end. Null (and nothing held) as soon as it exceeds <paramref name="limit"/> bytes.
    /// </summary>
    /// <exception cref="BadHttpRequestException">The body could not be read (a malformed chunked body, a client that stopped sending): answer 400.</exception>
    public static async ValueTask<ReadOnlySequence<byte>?> BufferAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (read.IsCompleted)
                return buffer;

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The whole body as one array (for the few readers that need contiguous bytes), or null past <paramref name="limit"/>.</summary>
    public static async ValueTask<byte[]?> ReadArrayAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        if (await BufferAsync(reader, limit, cancellationToken) is not { } body)
            return null;
        var bytes = body.ToArray();
        reader.AdvanceTo(body.End);
        return bytes;
    }
}
