using System.Net;
using System.Text;
using Herald.Webhooks.Outbound;
using Microsoft.Extensions.Options;

namespace Herald.IntegrationTests.Webhooks;

/// <summary>
/// The SSRF guard with private targets not allowed (the default): literal non-public addresses are
/// refused when a subscription is written, and every connection is checked when it is made, so a
/// name resolving to loopback is never reached either.
/// </summary>
public sealed class SsrfGuardTests : IAsyncLifetime
{
    public static TheoryData<string> PrivateTargets => new()
    {
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://192.168.1.10:8443/hook",
        "http://100.64.0.1/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://0.0.0.0/hook",
        "http://255.255.255.255/hook",
    };

    private TestServer server = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        server = await TestServer.StartAsync(settings: new Dictionary<string, string?> { ["Herald:Webhooks:Outbound:RetrySchedule"] = "0s" });
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(PrivateTargets))]
    public async Task A_subscription_to_a_non_public_address_is_refused(string url)
    {
        using var api = server.CreateClient();
        using var response = await api.PostJsonAsync("v1/webhooks/subscriptions", $$"""{"url":"{{url}}","channels":["a:*"]}""");
        await WebhookApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "target_not_allowed");
        Assert.Empty((await api.GetJsonAsync("v1/webhooks/subscriptions")).GetProperty("subscriptions").EnumerateArray());
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_is_refused_when_connecting_and_never_reached()
    {
        using var api = server.CreateClient();
        var url = $"http://localhost:{receiver.BaseAddress.Port}/hook";
        var id = (await api.SubscribeAsync(url, ["probe:*"])).GetProperty("id").GetString()!;
        using (await api.PublishAsync("probe:x", """{"data":1}""")) { }

        var dead = Assert.Single(await api.WaitForDeliveriesAsync(id, d => d.Count == 1 && OutboundWebhookTests.Status(d[0]) == "dead", "a dead delivery"));
        var attempt = Assert.Single(dead.GetProperty("attempts").EnumerateArray());
        Assert.False(attempt.TryGetProperty("statusCode", out _));
        Assert.StartsWith("Target not allowed", attempt.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("loopback", attempt.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(receiver.All);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("[::1]")]
    [InlineData("[::ffff:127.0.0.1]")]
    public async Task The_connect_time_check_refuses_each_address_without_connecting(string host)
    {
        // The guard in front of the socket, on its own: a literal that slipped past the API (or a
        // name that resolves to it) is refused before any connection is attempted.
        using var sender = new WebhookSender(Options.Create(new HeraldOptions()), TimeProvider.System);
        var delivery = new DueDelivery(1, "msg_test", Encoding.UTF8.GetBytes("{}"), 0, 0);
        var result = await sender.SendAsync(new Uri($"http://{host}:{receiver.BaseAddress.Port}/hook"), new byte[32], delivery, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(result.StatusCode);
        Assert.StartsWith("Target not allowed", result.Error, StringComparison.Ordinal);
        Assert.Empty(receiver.All);
    }

    [Fact]
    public async Task With_private_targets_allowed_the_same_sender_reaches_loopback()
    {
        var result = await SendAllowingPrivateAsync("hook");
        Assert.Equal(200, result.StatusCode);
        Assert.Single(receiver.All);
    }

    [Fact]
    public async Task Redirects_are_not_followed_and_count_as_failed_attempts()
    {
        receiver.Script("moved", 307);
        var result = await SendAllowingPrivateAsync("moved");
        Assert.Equal(307, result.StatusCode);
        Assert.False(result.Succeeded);
        Assert.Equal("moved", Assert.Single(receiver.All).Path);
    }

    private async Task<SendResult> SendAllowingPrivateAsync(string path)
    {
        var options = new HeraldOptions();
        options.Webhooks.Outbound.AllowPrivateTargets = true;
        using var sender = new WebhookSender(Options.Create(options), TimeProvider.System);
        var delivery = new DueDelivery(1, "msg_test", Encoding.UTF8.GetBytes("{}"), 0, 0);
        return await sender.SendAsync(new Uri(receiver.Url(path)), new byte[32], delivery, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
