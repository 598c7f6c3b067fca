using System.Net;
using System.Text;
using System.Text.Json;
using Herald.IntegrationTests.Transports;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Users;

/// <summary>Calls of <c>POST /v1/users/{user}/…</c> and the reads the user tests share; every await bounded.</summary>
internal static class UserApi
{
    public static Task<HttpResponseMessage> DisconnectAsync(HttpClient client, string user, string? body = null, string contentType = "application/json") =>
        PostAsync(client, $"v1/users/{Uri.EscapeDataString(user)}/disconnect", body, contentType);

    public static Task<HttpResponseMessage> UnsubscribeAsync(HttpClient client, string user, string? body, string contentType = "application/json") =>
        PostAsync(client, $"v1/users/{Uri.EscapeDataString(user)}/unsubscribe", body, contentType);

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? body, string contentType = "application/json") =>
        client.PostAsync(new Uri(path, UriKind.Relative), body is null ? null : new StringContent(body, Encoding.UTF8, contentType)).WaitAsync(HttpJson.Timeout);

    /// <summary>Asserts the status and returns the answer's JSON.</summary>
    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync().WaitAsync(HttpJson.Timeout);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem document's status and returns its <c>code</c>.</summary>
    public static async Task<string?> CodeAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
            return (await ExpectAsync(response, status)).GetProperty("code").GetString();
    }

    /// <summary>A WebSocket of <paramref name="user"/> subscribed to <paramref name="channels"/> (each reply checked).</summary>
    public static async Task<WsClient> WebSocketAsync(TestServer server, string user, params string[] channels)
    {
        var ws = await WsClient.ConnectAsync(server, bearer: Tokens.Mint(user));
        var id = 1;
        foreach (var channel in channels)
        {
            var reply = await ws.RequestAsync($$"""{"id":{{id++}},"op":"subscribe","channel":"{{channel}}"}""");
            Assert.True(reply.GetProperty("type").GetString() == "subscribed", reply.ToString());
        }

        return ws;
    }

    /// <summary>An SSE or NDJSON connection of <paramref name="http"/>'s user, read past its <c>subscribed</c> messages.</summary>
    public static async Task<PushClient> PushAsync(HttpClient http, string transport, params string[] channels)
    {
        var push = await PushClient.ConnectAsync(http, transport, channels);
        foreach (var _ in channels)
            await push.ExpectAsync("subscribed");
        return push;
    }

    /// <summary>Reads a push connection to its end: the <c>disconnect</c> message, then nothing.</summary>
    public static async Task<JsonElement> DisconnectMessageAsync(PushClient push)
    {
        var message = await push.ExpectAsync("disconnect");
        Assert.Null(await push.ReadAsync());
        return message.Json;
    }
}
