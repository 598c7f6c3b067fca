using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Herald.Client.Internal;

/// <summary>
/// Plain HTTP to the server: the credential as <c>Authorization: Bearer</c>, a timeout per request,
/// one retry with a refreshed token after a 401/403, and problem documents turned into
/// <see cref="HeraldException"/>s with the server's stable code.
/// </summary>
internal sealed class HttpApi : IDisposable
{
    private readonly HttpClient http;
    private readonly IReadOnlyList<KeyValuePair<string, string>> headers;

    public HttpApi(HeraldClientOptions options, Uri baseAddress, Credentials credentials)
    {
        var handler = options.HttpMessageHandler;
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        // Held polls and push responses last as long as they last: each request sets its own deadline.
        http.Timeout = Timeout.InfiniteTimeSpan;
        BaseAddress = baseAddress;
        Credentials = credentials;
        RequestTimeout = options.RequestTimeout;
        headers = [.. options.Headers];
    }

    public Uri BaseAddress { get; }

    public Credentials Credentials { get; }

    public TimeSpan RequestTimeout { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers => headers;

    /// <summary>
    /// Sends a request; returns the response once its headers are in (2xx or 304), else throws the
    /// problem as a <see cref="HeraldException"/>. <paramref name="timeout"/> bounds the headers only
    /// when <paramref name="streaming"/>, else the whole exchange is bounded by the caller's reading.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string pathAndQuery, byte[]? jsonBody, IEnumerable<KeyValuePair<string, string>>? extraHeaders, TimeSpan timeout, bool streaming, CancellationToken cancellationToken)
    {
        var refreshed = false;
        while (true)
        {
            var token = await Credentials.CurrentAsync(cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, new Uri(BaseAddress, pathAndQuery));
            if (token is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            foreach (var header in headers)
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            if (extraHeaders is not null)
            {
                foreach (var header in extraHeaders)
                    request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            if (jsonBody is not null)
            {
                request.Content = new ByteArrayContent(jsonBody);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, streaming ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HeraldException("timeout", $"No answer from {request.RequestUri} within {timeout.TotalSeconds:0.#} s.", null, e);
            }
            catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException)
            {
                // SocketsHttpHandler lets a raw SocketException out when the connection is reset
                // between connect and its first use ("Transport endpoint is not connected", read from
                // RemoteEndPoint): a network failure like any other, retried by the caller's backoff.
                throw new HeraldException("network", $"Cannot reach {request.RequestUri}: {e.Message}", null, e);
            }

            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotModified)
                return response;
            using (response)
            {
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && Credentials.Refreshable && !refreshed)
                {
                    refreshed = true;
                    await Credentials.RefreshAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A request whose JSON answer is read whole; null body for 304.</summary>
    public async Task<(HttpResponseMessage Response, byte[]? Body)> SendJsonAsync(
        HttpMethod method, string pathAndQuery, byte[]? jsonBody, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null, TimeSpan? timeout = null)
    {
        var response = await SendAsync(method, pathAndQuery, jsonBody, extraHeaders, timeout ?? RequestTimeout, streaming: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified)
            return (response, null);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return (response, body);
    }

    /// <summary>Whether the server answers plain HTTP at all: tells "this transport is blocked" from "the server is down".</summary>
    public async Task<bool> ServerAnswersAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(RequestTimeout);
        try
        {
            using var response = await http.GetAsync(new Uri(BaseAddress, "healthz"), deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            // A connection the network cuts while it opens can surface as the socket's own exception
            // (SocketsHttpHandler reads the remote end point of a socket already reset): still "no answer".
            return false;
        }
    }

    public static async Task<HeraldException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            text = string.Empty;
        }

        string? code = null, detail = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (document.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String)
                    code = c.GetString();
                if (document.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
                    detail = d.GetString();
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's page): the status says what happened.
        }

        detail ??= text.Length > 200 ? text[..200] : text.Length > 0 ? text : response.ReasonPhrase;
        return new HeraldException(code ?? "http_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{status}: {detail}", status);
    }

    public static string Query(IEnumerable<KeyValuePair<string, string>> query)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in query)
            builder.Append(builder.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        return builder.ToString();
    }

    public void Dispose() => http.Dispose();
}
