using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Herald.Server.Web;

/// <summary>
/// One file of the web pages, held in memory with its compressed forms and a content-derived
/// ETag. The ETag is a hash of the bytes, not of a file time, so every node of a cluster and every
/// rebuild of the same files answers the same ETag and a browser's copy stays valid across them.
/// </summary>
internal sealed class WebAsset
{
    // Below 1 KiB a compressed body saves less than the round trip of a Content-Encoding header costs to read.
    private const int MinCompressBytes = 1024;

    private static readonly FileExtensionContentTypeProvider s_types = new();

    private WebAsset(string path, string contentType, Representation identity, Representation? brotli, Representation? gzip)
    {
        Path = path;
        ContentType = contentType;
        Identity = identity;
        Brotli = brotli;
        Gzip = gzip;
    }

    /// <summary>The file's path under wwwroot, with '/' separators and no leading '/'.</summary>
    public string Path { get; }

    public string ContentType { get; }

    public Representation Identity { get; }

    public Representation? Brotli { get; }

    public Representation? Gzip { get; }

    public bool IsHtml => ContentType.StartsWith("text/html", StringComparison.Ordinal);

    public static WebAsset Create(string path, byte[] bytes)
    {
        var contentType = ContentTypeOf(path);
        var hash = Convert.ToBase64String(SHA256.HashData(bytes).AsSpan(0, 12)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var identity = new Representation(bytes, null, $"\"{hash}\"");
        if (bytes.Length < MinCompressBytes || !IsCompressible(contentType))
            return new WebAsset(path, contentType, identity, null, null);

        var brotli = Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize));
        var gzip = Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize));
        return new WebAsset(
            path,
            contentType,
            identity,
            brotli.Length < bytes.Length ? new Representation(brotli, "br", $"\"{hash}-br\"") : null,
            gzip.Length < bytes.Length ? new Representation(gzip, "gzip", $"\"{hash}-gz\"") : null);
    }

    /// <summary>The best representation the request accepts: Brotli, then gzip, then the bytes as they are.</summary>
    public Representation Select(IList<StringWithQualityHeaderValue> acceptEncoding)
    {
        if (Brotli is not null && Accepts(acceptEncoding, "br"))
            return Brotli;
        if (Gzip is not null && Accepts(acceptEncoding, "gzip"))
            return Gzip;
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
