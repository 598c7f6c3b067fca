using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.WebhookBench;

/// <summary>
/// The customer endpoint: Kestrel on 127.0.0.1, verifies every delivery's Standard Webhooks
/// signature, answers 204, and records which (channel, offset) arrived under which webhook-id and
/// how long after its publication.
/// </summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, string> positions = new(StringComparer.Ordinal);
    private readonly LongConcurrentHistogram latency = new(1, 600_000_000, 3);
    private byte[] key = [];
    private TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long received;
    private long duplicates;
    private long badSignatures;
    private long conflicts;

    private Receiver(WebApplication app)
    {
        this.app = app;
        gate.SetResult();
    }

    public string Url => app.Urls.First() + "/hook";

    /// <summary>Requests that verified, duplicates included.</summary>
    public long Received => Interlocked.Read(ref received);

    /// <summary>Distinct webhook-ids.</summary>
    public int Distinct => positions.Count;

    public long Duplicates => Interlocked.Read(ref duplicates);

    public long BadSignatures => Interlocked.Read(ref badSignatures);

    /// <summary>A webhook-id seen again with another (channel, offset): must stay 0.</summary>
    public long Conflicts => Interlocked.Read(ref conflicts);

    /// <summary>Publication time to receipt, microseconds (first receipt of each id).</summary>
    public LongConcurrentHistogram Latency => latency;

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook", receiver.HandleAsync);
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Until <see cref="Open"/>, requests are held (not answered).</summary>
    public void Close() => gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => gate.TrySetResult();

    public void UseSecret(string secret) => key = Convert.FromBase64String(secret["whsec_".Length..]);

    public HashSet<string> Positions() => [.. positions.Values];

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        await gate.Task;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var headers = context.Request.Headers;
        string id = headers["webhook-id"].ToString(), timestamp = headers["webhook-timestamp"].ToString(), signature = headers["webhook-signature"].ToString();
        if (!Verifies(id, timestamp, signature, body))
        {
            Interlocked.Increment(ref badSignatures);
            context.Response.StatusCode = 401;
            return;
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var position = $"{root.GetProperty("channel").GetString()}/{root.GetProperty("offset").GetInt64()}";
        Interlocked.Increment(ref received);
        if (positions.TryAdd(id, position))
        {
            var published = root.GetProperty("time").GetDateTimeOffset();
            latency.RecordValue(Math.Max(0, (long)((DateTimeOffset.UtcNow - published).TotalMicroseconds)));
        }
        else
        {
            Interlocked.Increment(ref duplicates);
            if (positions[id] != position)
                Interlocked.Increment(ref conflicts);
        }

        context.Response.StatusCode = 204;
    }

    private bool Verifies(string id, string timestamp, string signature, byte[] body)
    {
        if (!signature.StartsWith("v1,", StringComparison.Ordinal))
            return false;
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        var expected = HMACSHA256.HashData(key, content);
        Span<byte> given = stackalloc byte[32];
        return Convert.TryFromBase64String(signature[3..], given, out var written) && written == 32 && CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
