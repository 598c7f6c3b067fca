using System.Collections.Frozen;
using Microsoft.Net.Http.Headers;

namespace Herald.Server.Web;

/// <summary>
/// Serves the demo chat (<c>/</c>), the dashboard (<c>/dashboard</c>) and their scripts and styles
/// from wwwroot files embedded in the <c>herald</c> assembly: they work from any working directory,
/// in a build or a published single file, with nothing to copy beside the binary.
/// </summary>
/// <remarks>
/// Each file is one explicit GET/HEAD endpoint, so an unknown path still gets the API's
/// <c>404 not_found</c> problem and no route of <c>/v1</c> can be shadowed. The files are not
/// fingerprinted, so they are sent with <c>Cache-Control: no-cache</c>: a browser keeps its copy
/// and revalidates it with the content-hash ETag, which costs a 304 with no body.
/// </remarks>
internal static class WebPages
{
    /// <summary>The pages' own origin only: no inline script or style, no framing.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private const string ResourcePrefix = "wwwroot/";

    // Read once per process (each compressed form at its first request): the files are part of the assembly and never change.
    private static readonly Lazy<FrozenDictionary<string, WebAsset>> s_assets = new(Load);

    /// <summary>Every embedded file, by its path under wwwroot.</summary>
    public static FrozenDictionary<string, WebAsset> Assets => s_assets.Value;

    /// <summary>Routes the pages' files: each at its own path, plus <c>/</c> and <c>/dashboard</c>.</summary>
    public static IEndpointRouteBuilder MapWebPages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        foreach (var (route, file) in (ReadOnlySpan<(string, string)>)[("/", "index.html"), ("/dashboard", "dashboard.html")])
        {
            if (Assets.TryGetValue(file, out var page))
                endpoints.MapMethods(route, methods, context => ServeAsync(context, page)).ExcludeFromDescription();
        }

        foreach (var asset in Assets.Values)
            endpoints.MapMethods("/" + asset.Path, methods, context => ServeAsync(context, asset)).ExcludeFromDescription();
        return endpoints;
    }

    private static Task ServeAsync(HttpContext context, WebAsset asset)
    {
        var request = context.Request;
        var response = context.Response;
        var typed = request.GetTypedHeaders();
        var representation = asset.Select(typed.AcceptEncoding);

        response.Headers.ETag = representation.ETag;
        response.Headers.CacheControl = "no-cache";
        response.Headers.Vary = "Accept-Encoding";
        response.Headers.XContentTypeOptions = "nosniff";
        if (asset.IsHtml)
        {
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            response.Headers["Referrer-Policy"] = "no-referrer";
        }

        if (Matches(typed.IfNoneMatch, representation.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        if (representation.Encoding is { } encoding)
            response.Headers.ContentEncoding = encoding;
        response.ContentLength = representation.Bytes.Length;
        return HttpMethods.IsHead(request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(representation.Bytes, context.RequestAborted).AsTask();
    }

    /// <summary>If-None-Match uses the weak comparison (RFC 9110 §13.1.2): <c>W/"x"</c> matches <c>"x"</c>.</summary>
    private static bool Matches(IList<EntityTagHeaderValue> ifNoneMatch, string etag)
    {
        foreach (var candidate in ifNoneMatch)
        {
            if (candidate.Equals(EntityTagHeaderValue.Any) || candidate.Tag.Equals(etag, StringComparison.Ordinal))
                return true;
        }

        return false;
    }

    private static FrozenDictionary<string, WebAsset> Load()
    {
        var assembly = typeof(WebPages).Assembly;
        var assets = new Dictionary<string, WebAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            // MSBuild's %(RecursiveDir) keeps the OS separator.
            var normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(ResourcePrefix, StringComparison.Ordinal))
                continue;

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var path = normalized[ResourcePrefix.Length..];
            assets[path] = WebAsset.Create(path, copy.ToArray());
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
