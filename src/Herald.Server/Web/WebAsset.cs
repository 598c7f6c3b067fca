using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Herald.Server.Web;

/// <summary>
/// One file of the web pages, held in memory with its compressed forms and a content-derived
/// ETag. The ETag is a hash of the bytes, not of a file time, so every node of a cluster and every
/// rebuild of the same files answers the same ETag and a browser's copy stays valid across them.
/// Each compressed form is made at its first request, once per process: compressing every page at
/// the smallest size cost each start ~0.7 s of CPU, paid by every node that never serves a page.
/// </summary>
internal sealed class WebAsset
{
    // Below 1 KiB a compressed body saves less than the round trip of a Content-Encoding header costs to read.
    private const int MinCompressBytes = 1024;

    private static readonly FileExtensionContentTypeProvider s_types = new();

    private readonly Lazy<Representation?>? brotli;
    private readonly Lazy<Representation?>? gzip;

    private WebAsset(string path, string contentType, Representation identity, Lazy<Representation?>? brotli, Lazy<Representation?>? gzip)
    {
        Path = path;
        ContentType = contentType;
        Identity = identity;
        this.brotli = brotli;
        this.gzip = gzip;
    }

    /// <summary>The file's path under wwwroot, with '/' separators and no leading '/'.</summary>
    public string Path { get; }

    public string ContentType { get; }

    public Representation Identity { get; }

    /// <summary>The Brotli form (compressed now if it was not yet); null when the file is not worth compressing.</summary>
    public Representation? Brotli => brotli?.Value;

    /// <summary>The gzip form, as <see cref="Brotli"/>.</summary>
    public Representation? Gzip => gzip?.Value;

    public bool IsHtml => ContentType.StartsWith("text/html", StringComparison.Ordinal);

    public static WebAsset Create(string path, byte[] bytes)
    {
        var contentType = ContentTypeOf(path);
        var hash = Convert.ToBase64String(SHA256.HashData(bytes).AsSpan(0, 12)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var identity = new Representation(bytes, null, $"\"{hash}\"");
        if (bytes.Length < MinCompressBytes || !IsCompressible(contentType))
            return new WebAsset(path, contentType, identity, null, null);

        return new WebAsset(
            path,
            contentType,
            identity,
            new Lazy<Representation?>(() => Smaller(bytes, Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize)), "br", $"\"{hash}-br\"")),
            new Lazy<Representation?>(() => Smaller(bytes, Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize)), "gzip", $"\"{hash}-gz\"")));
    }

    /// <summary>The compressed form when it is smaller than the bytes themselves, else null (they are sent as they are).</summary>
    private static Representation? Smaller(byte[] bytes, byte[] compressed, string encoding, string etag) =>
        compressed.Length < bytes.Length ? new Representation(compressed, encoding, etag) : null;

    /// <summary>The best representation the request accepts: Brotli, then gzip, then the bytes as they are.</summary>
    public Representation Select(IList<StringWithQualityHeaderValue> acceptEncoding)
    {
        if (Accepts(acceptEncoding, "br") && Brotli is { } br)
            return br;
        if (Accepts(acceptEncoding, "gzip") && Gzip is { } gz)
            return gz;
        return Identity;
    }

    private static bool Accepts(IList<StringWithQualityHeaderValue> acceptEncoding, string coding)
    {
        foreach (var value in acceptEncoding)
        {
            if (value.Value.Equals(coding, StringComparison.OrdinalIgnoreCase) || value.Value.Equals("*", StringComparison.Ordinal))
                return value.Quality is not 0;
        }

        return false;
    }

    private static string ContentTypeOf(string path)
    {
        if (!s_types.TryGetContentType(path, out var type))
            type = "application/octet-stream";
        return type.StartsWith("text/", StringComparison.Ordinal) || type is "application/json" or "image/svg+xml" or "application/manifest+json"
            ? type + "; charset=utf-8"
            : type;
    }

    private static bool IsCompressible(string contentType) =>
        contentType.StartsWith("text/", StringComparison.Ordinal)
        || contentType.StartsWith("application/json", StringComparison.Ordinal)
        || contentType.StartsWith("image/svg+xml", StringComparison.Ordinal)
        || contentType.StartsWith("application/manifest+json", StringComparison.Ordinal);

    private static byte[] Compress(byte[] bytes, Func<Stream, Stream> compressor)
    {
        using var output = new MemoryStream();
        using (var stream = compressor(output))
            stream.Write(bytes);
        return output.ToArray();
    }

    /// <summary>The bytes sent for one <c>Content-Encoding</c> (null: none), and their ETag.</summary>
    internal sealed record Representation(byte[] Bytes, string? Encoding, string ETag);
}
