using System.IO.Compression;
using System.Net;
using Herald.Server.Web;

namespace Herald.IntegrationTests;

public sealed class WebPagesTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync("memory");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task The_chat_is_at_the_root_and_the_dashboard_at_dashboard_as_html_with_a_same_origin_policy()
    {
        using var client = server.CreateClient(apiKey: null);
        foreach (var (path, title) in ((string, string)[])[("", "<title>Herald chat"), ("dashboard", "<title>Herald dashboard")])
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
            Assert.Equal(WebPages.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.NotNull(response.Headers.ETag);
            Assert.Contains(title, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Every_embedded_file_is_served_byte_for_byte_with_its_content_type()
    {
        Assert.Contains("js/herald-client.js", WebPages.Assets.Keys);
        using var client = server.CreateClient(apiKey: null);
        foreach (var asset in WebPages.Assets.Values)
        {
            using var response = await client.GetAsync(new Uri(asset.Path, UriKind.Relative)).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(asset.ContentType, response.Content.Headers.ContentType?.ToString());
            Assert.Equal(asset.Identity.Bytes, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.StartsWith("text/javascript", WebPages.Assets["js/herald-client.js"].ContentType, StringComparison.Ordinal);
        Assert.StartsWith("text/css", WebPages.Assets.Values.First(a => a.Path.EndsWith(".css", StringComparison.Ordinal)).ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_that_sends_the_etag_back_is_answered_304_with_no_body()
    {
        using var client = server.CreateClient(apiKey: null);
        using var first = await client.GetAsync(new Uri("js/herald-client.js", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        var etag = first.Headers.ETag!;

        foreach (var ifNoneMatch in (string[])[etag.Tag, "W/" + etag.Tag, "\"other\", " + etag.Tag, "*"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "js/herald-client.js");
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var again = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Equal(etag, again.Headers.ETag);
            Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        }

        using var stale = new HttpRequestMessage(HttpMethod.Get, "js/herald-client.js");
        stale.Headers.TryAddWithoutValidation("If-None-Match", "\"not-this-one\"");
        using var changed = await client.SendAsync(stale).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
    }

    [Fact]
    public async Task Text_files_are_sent_with_brotli_or_gzip_when_accepted_and_decode_to_the_same_bytes()
    {
        var asset = WebPages.Assets["js/herald-client.js"];
        using var client = server.CreateClient(apiKey: null);
        foreach (var (accept, encoding) in ((string, string?)[])[("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", null)])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, asset.Path);
            request.Headers.TryAddWithoutValidation("Accept-Encoding", accept);
            using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(encoding, response.Content.Headers.ContentEncoding.SingleOrDefault());
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(body.Length, response.Content.Headers.ContentLength);
            Assert.Equal(asset.Identity.Bytes, Decode(body, encoding));
        }
    }

    [Fact]
    public async Task HEAD_answers_the_headers_of_GET_without_a_body()
    {
        using var client = server.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Head, "dashboard");
        using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WebPages.Assets["dashboard.html"].Identity.Bytes.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_api_and_unknown_paths_answer_as_before_and_the_pages_stay_out_of_the_openapi_document()
    {
        using var client = server.CreateClient(apiKey: null);
        using var unknown = await client.GetAsync(new Uri("no/such/page", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found", (await unknown.ReadJsonAsync()).GetProperty("code").GetString());

        using var post = await client.PostAsync(new Uri("", UriKind.Relative), new StringContent("x")).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);

        using var health = await client.GetAsync(new Uri("healthz", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var openapi = await client.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative)).WaitAsync(HttpJson.Timeout);
        Assert.Contains("\"/v1/stats\"", openapi, StringComparison.Ordinal);
        Assert.DoesNotContain("\"/dashboard\"", openapi, StringComparison.Ordinal);
        Assert.DoesNotContain("\"/\":", openapi, StringComparison.Ordinal);
    }

    private static byte[] Decode(byte[] body, string? encoding)
    {
        if (encoding is null)
            return body;
        using var input = new MemoryStream(body);
        using Stream decoder = encoding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }
}
