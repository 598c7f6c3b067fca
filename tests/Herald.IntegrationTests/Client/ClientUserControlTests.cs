using System.Net;
using Herald.Client;
using Herald.IntegrationTests.Transports.WebSocket;
using static Herald.IntegrationTests.Users.UserApi;

namespace Herald.IntegrationTests.Client;

/// <summary>
/// The .NET client and the server acting on its own: the server API's unsubscribe (the subscription
/// ends, not renewed) and disconnect (3503: the client stays away until <c>Reconnect()</c>), and the
/// personal channel the server subscribes at connect, resumed across that reconnect.
/// </summary>
public sealed class ClientUserControlTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync("memory", new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:me:AutoSubscribe"] = "true",
        ["Herald:Namespaces:chat:Subscribe"] = "Authenticated",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Sse)]
    [InlineData(HeraldTransport.Stream)]
    public async Task A_server_unsubscribe_ends_that_subscription_only_and_a_disconnect_keeps_the_client_away_until_Reconnect(HeraldTransport transport)
    {
        var user = $"u{transport}".ToLowerInvariant();
        await using var client = Clients.Create(server.BaseAddress, [transport], o => o.Token = Tokens.Mint(user));
        var log = new ClientLog(client);
        var personal = new Received<JsonData>(await client.SubscribeAsync($"me:{user}").WaitAsync(Timeout));
        var team = await client.SubscribeAsync(Clients.FreshChannel()).WaitAsync(Timeout);
        var reasons = new List<string>();
        team.Unsubscribed += (_, e) => reasons.Add($"{e.Transport}:{e.Reason}");

        using var api = server.CreateClient();
        using (var response = await UnsubscribeAsync(api, user, $$"""{"channel":"{{team.Channel}}"}"""))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        await Clients.Until(() => !team.Active, Timeout, () => "the subscription is still active");
        Assert.Equal([$"{transport}:server unsubscribe"], reasons);
        Assert.Null(client.GetSubscription(team.Channel));

        // The personal channel goes on.
        using (var published = await api.PublishAsync($"me:{user}", """{"data":1}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        await personal.Count(1);

        // Only what the server's disconnect caused: on a busy machine the first connection attempt
        // may have timed out and been retried ("failed to open") before the test got here.
        var before = log.Disconnects.Count;
        using (var response = await DisconnectAsync(api, user))
            await ExpectAsync(response, HttpStatusCode.Accepted);
        await Clients.Until(() => log.Disconnects.Count > before, Timeout, () => $"not disconnected: {log}");
        var disconnect = Assert.Single(log.Disconnects.Skip(before));
        Assert.Equal(3503, disconnect.Code);
        Assert.Null(disconnect.RetryIn);

        // Missed while away; a new subscription does not bring the client back, Reconnect() does,
        // and the personal channel resumes where it stopped.
        using (var published = await api.PublishAsync($"me:{user}", """{"data":2}"""))
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        int Attempts() => log.Entries.Count(e => e.StartsWith("connecting", StringComparison.Ordinal));
        var attempts = Attempts();
        client.Subscribe(Clients.FreshChannel());
        await Task.Delay(300);
        Assert.Equal(ConnectionState.Disconnected, client.State);
        Assert.Equal(attempts, Attempts());

        client.Reconnect();
        await personal.Count(2);
        Assert.Equal([1L, 2L], personal.Offsets);
        Assert.Equal(ConnectionState.Connected, client.State);
    }
}
