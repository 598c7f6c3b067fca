using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Herald.Webhooks.Outbound;

/// <summary>What one attempt came to.</summary>
/// <param name="StatusCode">The HTTP status, or null when no answer came.</param>
/// <param name="Error">Why it failed, null on a 2xx.</param>
internal readonly record struct SendResult(int? StatusCode, int LatencyMs, string? Error)
{
    public bool Succeeded => StatusCode is >= 200 and <= 299;
}

/// <summary>
/// POSTs one delivery: the publication's JSON with Standard Webhooks headers, through the SSRF
/// guard's handler (<see cref="TargetGuard"/>), with a timeout per attempt.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private static readonly MediaTypeHeaderValue s_json = new("application/json") { CharSet = "utf-8" };
    private static readonly ProductInfoHeaderValue s_userAgent = new("Herald-Webhooks", "1");

    private readonly HttpMessageInvoker client;
    private readonly TimeProvider time;
    private readonly TimeSpan timeout;

    public WebhookSender(IOptions<HeraldOptions> options, TimeProvider time)
    {
        var outbound = options.Value.Webhooks.Outbound;
        client = new HttpMessageInvoker(TargetGuard.CreateHandler(outbound.AllowPrivateTargets));
        this.time = time;
        timeout = outbound.AttemptTimeout;
    }

    /// <param name="key">The subscription's decoded signing key.</param>
    public async Task<SendResult> SendAsync(Uri url, byte[] key, DueDelivery delivery, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ReadOnlyMemoryContent(delivery.Body),
        };
        request.Content.Headers.ContentType = s_json;
        var headers = request.Headers;
        headers.UserAgent.Add(s_userAgent);
        headers.TryAddWithoutValidation("webhook-id", delivery.WebhookId);
        headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("webhook-signature", StandardWebhooksSignature.Sign(key, delivery.WebhookId, timestamp, delivery.Body.Span));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.SendAsync(request, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return new SendResult(status, Elapsed(started), status is >= 200 and <= 299 ? null : $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(null, Elapsed(started), $"No answer within {timeout.TotalSeconds:0.###} s.");
        }
        catch (HttpRequestException e)
        {
            return new SendResult(null, Elapsed(started), Describe(e));
        }
    }

    public void Dispose() => client.Dispose();

    private static int Elapsed(long started) => (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is TargetNotAllowedException refused)
                return "Target not allowed: " + refused.Message;
        }

        return e.InnerException is { } cause ? $"{e.Message} ({cause.Message})" : e.Message;
    }
}
