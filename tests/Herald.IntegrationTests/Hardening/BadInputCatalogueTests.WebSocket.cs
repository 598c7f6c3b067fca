using System.Net.WebSockets;
using System.Text;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Hardening;

public sealed partial class BadInputCatalogueTests
{
    /// <summary>WebSocket ops: each line is answered with an error reply of its code, and the connection keeps working.</summary>
    public static TheoryData<string, string> WebSocketOpRows => new()
    {
        { """{"id":1,"op":"publish","channel":"news:bad","data":"\ud800"}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"news:bad","data":{"\ud800":1}}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"news:bad","data":1,"type":"\udc00"}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"news:bad","data":1,"type":""}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"news:bad","data":1,"idempotencyKey":""}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"news:bad"}""", "bad_request" },
        { """{"id":1,"op":"publish","channel":"bad","data":1}""", "invalid_channel" },
        { """{"id":1,"op":"publish","channel":"small:bad","data":"0123456789012345678901234567890123456789012345678901234567890123456789"}""", "message_too_large" },
        { """{"id":1,"op":"publish","channel":"news:bad","data":1,"colour":"red"}""", "bad_request" },
        { """{"id":1,"op":"subscribe","channel":"news:bad","since":{"epoch":"x","offset":-1}}""", "bad_request" },
        { """{"id":1,"op":"subscribe","channel":"news:bad","since":{"epoch":"","offset":0},"cursor":"AQ"}""", "bad_request" },
        { """{"id":1,"op":"subscribe","channel":"news:bad","cursor":"%%%"}""", "invalid_cursor" },
        { """{"id":1,"op":"unsubscribe","channel":"news:bad"}""", "not_subscribed" },
        { """{"id":1,"op":"history","channel":"news:bad","limit":100000}""", "bad_request" },
        { """{"id":1,"op":"history","channel":"news:bad","after":"1"}""", "bad_request" },
        { """{"id":1,"op":"fly"}""", "unknown_op" },
        { """{"id":"0123456789012345678901234567890123456789012345678901234567890123456789","op":"ping"}""", "bad_request" },
        { """{"id":1.5,"op":"ping"}""", "bad_request" },
        { """[1,2,3]""", "bad_request" },
        { """{"id":1,"op":"ping"}{"id":2,"op":"ping"}""", "bad_request" },
    };

    /// <summary>WebSocket frames the protocol refuses by closing: the close code.</summary>
    public static TheoryData<string, int> WebSocketFrameRows => new()
    {
        { "binary", 1003 },
        { "invalid-utf8", 1007 },
        { "invalid-utf8-in-json-string", 1007 },
        { "too-big", 1009 },
        { "too-big-header-only", 1009 },
    };

    [Theory]
    [MemberData(nameof(WebSocketOpRows))]
    public async Task WebSocket_ops(string line, string code)
    {
        await using var ws = await WsClient.ConnectAsync(server, bearer: TestServer.ApiKey);
        var reply = await ws.RequestAsync(line);
        Assert.Equal("error", reply.GetProperty("type").GetString());
        Assert.Equal(code, reply.GetProperty("code").GetString());
        Assert.Equal("pong", (await ws.RequestAsync("""{"id":99,"op":"ping"}""")).GetProperty("type").GetString());
        Assert.Equal(0, await TopAsync("news:bad") + await TopAsync("small:bad"));
    }

    [Theory]
    [MemberData(nameof(WebSocketFrameRows))]
    public async Task WebSocket_frames(string frame, int closeCode)
    {
        using var timeout = new CancellationTokenSource(RawHttp.Timeout);
        using var socket = await RawHttp.ConnectAsync(server.BaseAddress, cancellationToken: timeout.Token);
        Assert.Equal(101, await RawHttp.HandshakeAsync(socket, timeout.Token));
        var publish = "{\"id\":1,\"op\":\"publish\",\"channel\":\"news:bad\",\"data\":\"";
        byte[] bytes = frame switch
        {
            "binary" => RawHttp.Frame(0x2, Encoding.ASCII.GetBytes(publish + "x\"}")),
            "invalid-utf8" => RawHttp.Frame(0x1, [0xFF, 0xFE, 0xFD]),
            "invalid-utf8-in-json-string" => RawHttp.Frame(0x1, [.. Encoding.ASCII.GetBytes(publish), 0xC3, 0x28, .. "\"}"u8.ToArray()]),
            "too-big" => RawHttp.Frame(0x1, Encoding.ASCII.GetBytes(publish + new string('x', 4096) + "\"}")),
            _ => RawHttp.FrameHeader(0x1, 1L << 40),
        };
        await socket.SendAsync(bytes, timeout.Token);
        Assert.Equal(closeCode, await RawHttp.ReadCloseCodeAsync(socket, timeout.Token));
        Assert.Equal(0, await TopAsync("news:bad"));
    }

    [Fact]
    public async Task The_catalogue_has_at_least_60_cases()
    {
        var count = PublishRows.Count + ReadRows.Count + AuthRows.Count + InboundWebhookRows.Count + SubscriptionRows.Count
            + WebSocketOpRows.Count + WebSocketFrameRows.Count + 1;
        Assert.True(count >= 60, $"{count} cases");
        await Task.CompletedTask;
    }
}
