using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>
/// The receiver example of docs/webhooks.md, taken from the document as it is and run under node
/// against a real Herald: so the documented verification cannot drift from what Herald sends.
/// </summary>
public sealed partial class WebhookReceiverExampleTests
{
    private const string Marker = "<!-- webhook-receiver-example:";

    [Fact]
    public async Task The_documented_node_receiver_verifies_real_deliveries_and_refuses_forgeries()
    {
        await using var server = await TestServer.StartAsync(settings: OutboundWebhookTests.Settings());
        using var api = server.CreateClient();
        var subscription = await api.SubscribeAsync("http://127.0.0.1:1/", ["docs:*"], enabled: false);
        var id = subscription.GetProperty("id").GetString()!;
        var secret = subscription.GetProperty("secret").GetString()!;

        var directory = TempDirectory.Create();
        var script = Path.Combine(directory, "receiver.mjs");
        await File.WriteAllTextAsync(script, ExtractExample());
        await using var node = await NodeReceiver.StartAsync(script, secret);
        try
        {
            var hook = $"http://127.0.0.1:{node.Port}/hook";
            using (var enable = await api.PostJsonAsync($"v1/webhooks/subscriptions/{id}", $$"""{"url":"{{hook}}","enabled":true}""", HttpMethod.Patch))
                Assert.Equal(HttpStatusCode.OK, enable.StatusCode);

            using var published = await api.PublishAsync("docs:example", """{"data":{"n":1}}""");
            var publicationId = (await published.ReadJsonAsync()).GetProperty("id").GetString();
            Assert.Equal($"verified msg_{publicationId} docs:example 1 {{\"n\":1}}", await node.NextLineAsync());

            var delivery = Assert.Single(await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && OutboundWebhookTests.Status(d[0]) == "delivered", "delivered"));
            Assert.Equal(204, delivery.GetProperty("attempts")[0].GetProperty("statusCode").GetInt32());

            // A replay arrives with the same webhook-id: the receiver accepts it and drops it as a duplicate.
            using (await api.PostJsonAsync($"v1/webhooks/deliveries/{delivery.GetProperty("id").GetInt64()}/replay", "{}")) { }
            await api.WaitForDeliveriesAsync(id, d => d[0].GetProperty("attempts").GetArrayLength() == 2 && OutboundWebhookTests.Status(d[0]) == "delivered", "the replay delivered");

            // Forgeries, sent straight to the receiver: each is refused, and nothing more is printed.
            using var direct = new HttpClient { BaseAddress = new Uri(hook), Timeout = HttpJson.Timeout };
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            const string Body = """{"type":"publication","channel":"docs:forged","offset":1,"data":{}}""";
            Assert.Equal(HttpStatusCode.NoContent, await PostAsync(direct, "msg_genuine", now, Body, secret, Body));
            Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(direct, "msg_tampered", now, Body, secret, Body.Replace("{}", "{\"x\":1}", StringComparison.Ordinal)));
            Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(direct, "msg_wrong", now, Body, "whsec_" + Convert.ToBase64String(new byte[32]), Body));
            Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(direct, "msg_stale", now - 600, Body, secret, Body));
            Assert.Equal("verified msg_genuine docs:forged 1 {}", await node.NextLineAsync());
            Assert.Empty(node.Pending());
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    /// <summary>The js block that follows the marker in docs/webhooks.md.</summary>
    private static string ExtractExample()
    {
        var markdown = File.ReadAllText(Path.Combine(Path.GetDirectoryName(NodeScript.NodeDirectory)!, "..", "docs", "webhooks.md"));
        var marker = markdown.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, "docs/webhooks.md has lost its receiver example marker");
        var block = CodeBlock().Match(markdown, marker);
        Assert.True(block.Success, "no ```js block after the marker in docs/webhooks.md");
        return block.Groups[1].Value;
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient client, string id, long timestamp, string signedBody, string secret, string sentBody)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{t}.{signedBody}")));
        using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = new StringContent(sentBody, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", t);
        request.Headers.Add("webhook-signature", "v1," + signature);
        using var response = await client.SendAsync(request).WaitAsync(HttpJson.Timeout);
        return response.StatusCode;
    }

    [GeneratedRegex(@"```js\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    /// <summary>The example under node: its port, and the lines it prints after "listening on".</summary>
    private sealed class NodeReceiver : IAsyncDisposable
    {
        private readonly Process process;
        private readonly Channel<string> lines;

        private NodeReceiver(Process process, Channel<string> lines, int port)
        {
            this.process = process;
            this.lines = lines;
            Port = port;
        }

        public int Port { get; }

        public static async Task<NodeReceiver> StartAsync(string script, string secret)
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            start.Environment["HERALD_WEBHOOK_SECRET"] = secret;
            start.Environment["PORT"] = "0";
            var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            var lines = Channel.CreateUnbounded<string>();
            var errors = new StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                    lines.Writer.TryWrite(e.Data);
            };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (errors)
                    errors.AppendLine(e.Data);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                var listening = await lines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                var port = int.Parse(listening["listening on ".Length..], CultureInfo.InvariantCulture);
                return new NodeReceiver(process, lines, port);
            }
            catch (Exception e) when (e is TimeoutException or FormatException or ArgumentOutOfRangeException)
            {
                process.Kill(entireProcessTree: true);
                lock (errors)
                    throw new InvalidOperationException($"the documented receiver did not start: {errors}", e);
            }
        }

        public async Task<string> NextLineAsync() => await lines.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        public List<string> Pending()
        {
            var pending = new List<string>();
            while (lines.Reader.TryRead(out var line))
                pending.Add(line);
            return pending;
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
    }
}
