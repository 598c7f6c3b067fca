using System.Text.Json;

namespace Herald.IntegrationTests.Webhooks;

/// <summary><c>herald webhooks</c> against the real executable and a real receiver.</summary>
public sealed class WebhookCliTests
{
    [Fact]
    public async Task Add_list_deliveries_disable_replay_enable_and_remove_work_from_the_command_line()
    {
        var data = TempDirectory.Create();
        await using var receiver = await WebhookReceiver.StartAsync();
        try
        {
            await using var server = await HeraldProcess.StartAsync(data, "--Herald:Webhooks:Outbound:AllowPrivateTargets=true");
            string[] common = ["--server", server.BaseAddress.ToString(), "--data", data];

            var add = await Cli(["webhooks", "add", receiver.Url("cli"), "--channel", "cli:*", "--channel", "other:x", "--description", "from the CLI", .. common]);
            var subscription = JsonDocument.Parse(add).RootElement;
            var id = subscription.GetProperty("id").GetString()!;
            var secret = subscription.GetProperty("secret").GetString()!;
            Assert.Equal(["cli:*", "other:x"], subscription.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(["publication"], subscription.GetProperty("events").EnumerateArray().Select(c => c.GetString()));

            var presence = JsonDocument.Parse(await Cli(["webhooks", "add", receiver.Url("presence"), "--channel", "room:*", "--event", "channel.occupied", "--event", "presence.join", .. common])).RootElement;
            Assert.Equal(["channel.occupied", "presence.join"], presence.GetProperty("events").EnumerateArray().Select(c => c.GetString()));
            await Cli(["webhooks", "remove", presence.GetProperty("id").GetString()!, .. common]);
            var unknown = await CliTests.RunCliAsync(["webhooks", "add", receiver.Url("presence"), "--channel", "room:*", "--event", "room.opened", .. common]);
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("invalid_event_type", unknown.Error, StringComparison.Ordinal);

            Assert.Contains(id, await Cli(["webhooks", "list", .. common]), StringComparison.Ordinal);

            await Cli(["publish", "cli:one", """{"n":1}""", .. common]);
            var received = await receiver.NextAsync();
            Assert.True(WebhookApi.SignatureVerifies(received, secret));

            JsonElement delivery = default;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var page = JsonDocument.Parse(await Cli(["webhooks", "deliveries", "--subscription", id, "--status", "delivered", .. common])).RootElement;
                if (page.GetProperty("deliveries").GetArrayLength() == 1)
                {
                    delivery = page.GetProperty("deliveries")[0];
                    break;
                }

                await Task.Delay(100);
            }

            Assert.Equal(JsonValueKind.Object, delivery.ValueKind);
            var deliveryId = delivery.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);

            Assert.Contains("\"enabled\":false", await Cli(["webhooks", "disable", id, .. common]), StringComparison.Ordinal);
            var refused = await CliTests.RunCliAsync(["webhooks", "replay", deliveryId, .. common]);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("subscription_disabled", refused.Error, StringComparison.Ordinal);

            Assert.Contains("\"enabled\":true", await Cli(["webhooks", "enable", id, .. common]), StringComparison.Ordinal);
            await Cli(["webhooks", "replay", deliveryId, .. common]);
            var again = await receiver.NextAsync();
            Assert.Equal(received.Id, again.Id);

            await Cli(["webhooks", "remove", id, .. common]);
            Assert.DoesNotContain(id, await Cli(["webhooks", "list", .. common]), StringComparison.Ordinal);
            var missing = await CliTests.RunCliAsync(["webhooks", "remove", id, .. common]);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("subscription_not_found", missing.Error, StringComparison.Ordinal);
        }
        finally
        {
            TempDirectory.Delete(data);
        }
    }

    private static async Task<string> Cli(string[] args)
    {
        var (exitCode, output, error) = await CliTests.RunCliAsync(args);
        Assert.True(exitCode == 0, $"herald {string.Join(' ', args)} exited {exitCode}: {error}");
        return output;
    }
}
