using System.Text.Json;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Presence;

/// <summary>Reads presence messages from a WebSocket test client, skipping heartbeats and conflated counts.</summary>
internal static class PresenceClient
{
    /// <summary>The next message that is not a <c>presence_count</c> (counts arrive on their own clock).</summary>
    public static async Task<JsonElement> NextAsync(this WsClient client)
    {
        while (true)
        {
            var message = await client.ReceiveAsync();
            if (message.GetProperty("type").GetString() != "presence_count")
                return message;
        }
    }

    public static async Task<JsonElement> ExpectAsync(this WsClient client, string type)
    {
        var message = await client.NextAsync();
        Assert.True(message.GetProperty("type").GetString() == type, $"expected '{type}', got {message}");
        return message;
    }

    public static string[] Users(this JsonElement diff, string member) =>
        member == "leave"
            ? [.. diff.GetProperty(member).EnumerateArray().Select(u => u.GetString()!)]
            : [.. diff.GetProperty(member).EnumerateArray().Select(m => m.GetProperty("user").GetString()!)];

    /// <summary>Subscribes with presence and reads the reply and the presence state; for a snapshot, its members too.</summary>
    public static async Task<(JsonElement State, string[] Members)> SubscribeAsync(this WsClient client, string channel, string presence, string? since = null)
    {
        var sinceMember = since is null ? string.Empty : $",\"presenceSince\":{since}";
        await client.SendAsync($$"""{"id":1,"op":"subscribe","channel":"{{channel}}","presence":"{{presence}}"{{sinceMember}}}""");
        var reply = await client.NextAsync(); // a presence_count of another of the client's channels may come first
        Assert.Equal("subscribed", reply.GetProperty("type").GetString());
        var state = await client.ExpectAsync("presence_state");
        var members = new List<string>();
        if (presence == "list" && state.GetProperty("mode").GetString() == "list" && !state.GetProperty("recovered").GetBoolean())
        {
            while (true)
            {
                var page = await client.ExpectAsync("presence_snapshot");
                members.AddRange(page.Users("members"));
                if (page.GetProperty("last").GetBoolean())
                    break;
            }
        }

        return (state, [.. members]);
    }
}
