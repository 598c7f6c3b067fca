using Microsoft.Extensions.Logging;

namespace Herald.IntegrationTests.Hardening;

/// <summary>
/// A body that cannot be read (a malformed chunked encoding, sent by anyone: inbound webhooks are
/// anonymous) is the client's fault: 400 invalid_body with a problem document on every endpoint that
/// reads a body, nothing stored, and at most a warning without a stack in the log — one per 10 s.
/// </summary>
public sealed class BodyReadFailureTests : IAsyncLifetime
{
    private readonly CapturedLogs logs = new();
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", logs: logs, settings: new Dictionary<string, string?>
    {
        ["Herald:Webhooks:Sources:apikey:Scheme"] = "ApiKey",
        ["Herald:Webhooks:Sources:apikey:Secrets:0"] = "inbound-key-0123456789",
        ["Herald:Webhooks:Sources:apikey:Channel"] = "hooks:chunked",
        ["Herald:Webhooks:Sources:github:Scheme"] = "GitHub",
        ["Herald:Webhooks:Sources:github:Secrets:0"] = "It's a Secret to Everybody",
        ["Herald:Webhooks:Sources:github:Channel"] = "hooks:chunked",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    public static TheoryData<string, string, string> Endpoints => new()
    {
        { "POST", "/v1/channels/news:chunked/messages", "Authorization: Bearer " + TestServer.ApiKey },
        { "POST", "/v1/webhooks/in/github", string.Empty },
        { "POST", "/v1/webhooks/in/apikey", "Authorization: Bearer inbound-key-0123456789" },
        { "POST", "/v1/webhooks/subscriptions", "Authorization: Bearer " + TestServer.ApiKey },
        { "PATCH", "/v1/webhooks/subscriptions/sub_aaaaaaaaaaaaaaaaaaaa", "Authorization: Bearer " + TestServer.ApiKey },
    };

    public static TheoryData<string> MalformedChunks => new()
    {
        "ZZ\r\n{\"data\":1}\r\n0\r\n\r\n",           // not a hex size
        "5\r\n{\"data\":1}\r\n0\r\n\r\n",            // the chunk is longer than its size
        "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n",     // a size that overflows
        "3\r\n{\"dXX\r\n0\r\n\r\n",                 // no line end after the chunk
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_malformed_chunked_body_is_400_invalid_body_on_every_endpoint_that_reads_one(string method, string path, string auth)
    {
        foreach (var chunks in MalformedChunks)
        {
            using var timeout = new CancellationTokenSource(RawHttp.Timeout);
            using var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
            var head = $"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                + (auth.Length > 0 ? auth + "\r\n" : string.Empty) + "\r\n";
            await RawHttp.SendAsync(socket, head + chunks, timeout.Token);
            RawHttp.AssertProblem(await RawHttp.ReadUntilClosedAsync(socket, RawHttp.Timeout), 400, "invalid_body");
        }

        using var client = server.CreateClient();
        Assert.Equal(0, (await client.HistoryAsync("news:chunked")).GetProperty("top").GetInt64());
        Assert.Equal(0, (await client.HistoryAsync("hooks:chunked")).GetProperty("top").GetInt64());
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(logs.Entries, e => e.Exception is not null && e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Unreadable_bodies_are_logged_as_one_warning_per_interval_without_a_stack()
    {
        for (var i = 0; i < 20; i++)
        {
            using var timeout = new CancellationTokenSource(RawHttp.Timeout);
            using var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
            await RawHttp.SendAsync(socket, "POST /v1/webhooks/in/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", timeout.Token);
            RawHttp.AssertProblem(await RawHttp.ReadUntilClosedAsync(socket, RawHttp.Timeout), 400, "invalid_body");
        }

        var warnings = logs.Entries.Where(e => e.EventId == 2620).ToList();
        Assert.InRange(warnings.Count, 1, 3);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.All(warnings, w => Assert.Null(w.Exception));
    }
}
