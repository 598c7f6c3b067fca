using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>One POST the receiver got, as it came over the wire.</summary>
internal sealed record ReceivedWebhook(string Path, string? Id, string? Timestamp, string? Signature, string? ContentType, byte[] Body, int AnsweredWith)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public long Offset => Json.GetProperty("offset").GetInt64();
}

/// <summary>
/// A real customer endpoint: Kestrel on 127.0.0.1 and an ephemeral port. Each path answers from
/// its script of status codes (then 200), optionally after a delay, and every request is recorded.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> scripts = new(StringComparer.Ordinal);
    private readonly Channel<ReceivedWebhook> arrivals = Channel.CreateUnbounded<ReceivedWebhook>();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public Uri BaseAddress => new(app.Urls.First() + "/");

    /// <summary>Every request so far, in arrival order.</summary>
    public ConcurrentQueue<ReceivedWebhook> All { get; } = new();

    /// <summary>Applied before answering, to every path.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Answered by every path once its script is used up.</summary>
    public int DefaultStatus { get; set; } = 200;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return receiver;
    }

    /// <summary>The URL of <paramref name="path"/> on this receiver.</summary>
    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    /// <summary>The next requests to <paramref name="path"/> are answered with these statuses, in order.</summary>
    public void Script(string path, params int[] statuses) => scripts[path] = new ConcurrentQueue<int>(statuses);

    /// <summary>The next request to arrive (any path), or a timeout that names what was awaited.</summary>
    public async Task<ReceivedWebhook> NextAsync(TimeSpan? timeout = null) =>
        await arrivals.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>Waits until <paramref name="condition"/> holds over everything received, polling every 20 ms.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyCollection<ReceivedWebhook>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(All))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"The receiver did not see {what} within {timeout} ({All.Count} requests so far).");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, string path)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var status = scripts.TryGetValue(path, out var script) && script.TryDequeue(out var scripted) ? scripted : DefaultStatus;
        if (Delay > TimeSpan.Zero)
            await Task.Delay(Delay);

        var headers = context.Request.Headers;
        var received = new ReceivedWebhook(
            path,
            headers["webhook-id"].FirstOrDefault(),
            headers["webhook-timestamp"].FirstOrDefault(),
            headers["webhook-signature"].FirstOrDefault(),
            context.Request.ContentType,
            body.ToArray(),
            status);
        All.Enqueue(received);
        arrivals.Writer.TryWrite(received);
        context.Response.StatusCode = status;
        if (status is >= 300 and <= 399)
            context.Response.Headers.Location = "/redirected";
    }
}
