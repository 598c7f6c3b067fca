using System.Text;
using Herald.Client;
using Herald.Client.Webhooks;
using Herald.IntegrationTests.Webhooks;

namespace Herald.IntegrationTests.Client;

/// <summary>Server-side helpers: webhook subscriptions managed with an API key, and a receiver verifying Herald's Standard Webhooks signatures.</summary>
public sealed class ClientWebhookTests : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Webhooks:Outbound:AllowPrivateTargets"] = "true",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Manages_subscriptions_and_verifies_a_real_delivery_signed_by_the_server()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var client = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.ApiKey = TestServer.ApiKey);
        var channel = Clients.FreshChannel("news");
        var created = await client.Webhooks.CreateAsync(new WebhookSubscriptionRequest { Url = receiver.Url("hook"), Channels = [channel], Description = "test" }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("whsec_", created.Secret, StringComparison.Ordinal);
        Assert.True(created.Enabled);
        Assert.Contains(created.Id, (await client.Webhooks.ListAsync()).Select(s => s.Id));
        Assert.Null((await client.Webhooks.GetAsync(created.Id)).Secret);

        var published = await client.PublishAsync(channel, JsonData.Parse("""{"text":"signed"}""")).WaitAsync(TimeSpan.FromSeconds(30));
        var delivery = await receiver.NextAsync(TimeSpan.FromSeconds(30));
        var verifier = new StandardWebhooksVerifier(created.Secret!);
        Assert.True(verifier.Verify(delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body));
        Assert.Equal("msg_" + published.Id, delivery.Id);
        // One byte changed, another secret, a stale timestamp: all refused.
        var tampered = delivery.Body.ToArray();
        tampered[^2] ^= 1;
        Assert.False(verifier.Verify(delivery.Id, delivery.Timestamp, delivery.Signature, tampered));
        Assert.False(new StandardWebhooksVerifier("whsec_" + Convert.ToBase64String(new byte[32])).Verify(delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body));
        Assert.False(verifier.Verify(delivery.Id, delivery.Timestamp, delivery.Signature, delivery.Body, DateTimeOffset.UtcNow.AddMinutes(10)));
        var signed = StandardWebhooksVerifier.Sign(created.Secret!, "msg_1", 1700000000, Encoding.UTF8.GetBytes("{}"));
        Assert.True(verifier.Verify("msg_1", "1700000000", "v0,bad " + signed, Encoding.UTF8.GetBytes("{}"), DateTimeOffset.FromUnixTimeSeconds(1700000060)));

        var deliveries = await client.Webhooks.ListDeliveriesAsync(new WebhookDeliveryQuery { Subscription = created.Id });
        var listed = Assert.Single(deliveries.Deliveries);
        Assert.Equal((channel, (long?)1L), (listed.Channel, listed.Offset));
        for (var i = 0; i < 300 && (await client.Webhooks.GetDeliveryAsync(listed.Id)).Status != "delivered"; i++)
            await Task.Delay(100);
        Assert.Equal("delivered", (await client.Webhooks.GetDeliveryAsync(listed.Id)).Status);
        var replayed = await client.Webhooks.ReplayAsync(listed.Id);
        Assert.Equal(delivery.Id, replayed.WebhookId);

        var disabled = await client.Webhooks.UpdateAsync(created.Id, new WebhookSubscriptionRequest { Enabled = false });
        Assert.False(disabled.Enabled);
        Assert.Equal("test", disabled.Description);
        await client.Webhooks.DeleteAsync(created.Id);
        var missing = await Assert.ThrowsAsync<HeraldException>(() => client.Webhooks.GetAsync(created.Id));
        Assert.Equal(("subscription_not_found", 404), (missing.Code, missing.Status));

        await using var anonymous = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket]);
        Assert.Equal("unauthorized", (await Assert.ThrowsAsync<HeraldException>(() => anonymous.Webhooks.ListAsync())).Code);
    }
}
