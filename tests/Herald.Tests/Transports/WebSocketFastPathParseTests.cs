using System.Net;
using Herald.Transports.WebSocket;

namespace Herald.Tests.Transports;

/// <summary>
/// The fast path takes only an upgrade head the HTTP layer would accept; anything else returns null
/// and is handed, untouched, to Kestrel, which answers it (400 for a malformed head).
/// </summary>
public sealed class WebSocketFastPathParseTests
{
    private const string Rest = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    [Fact]
    public void A_browser_upgrade_is_taken()
    {
        var request = WebSocketFastPath.TryParse("GET /v1/ws?channel=chat:lobby HTTP/1.1\r\nHost: localhost:8080\r\nOrigin: https://app.example.com\r\nUser-Agent: Mozilla/5.0 (X11)\t\r\n" + Rest, IPAddress.Loopback);
        Assert.NotNull(request);
        Assert.Equal("localhost:8080", request.Host.Value);
        Assert.Equal("Mozilla/5.0 (X11)", request.Headers.UserAgent.ToString());
    }

    /// <summary>
    /// Found by the ws-head fuzz target: a Host holding a control character made HostString throw
    /// (ArgumentException from IDN mapping) inside the connection middleware, an unhandled error
    /// logged with its stack for every such connection.
    /// </summary>
    [Theory]
    [InlineData("Host: h\r\u001aUpgrade: WebSocket\r\n")]
    [InlineData("Host: \u0010\u0000h\r\n")]
    [InlineData("Host: h\u00e9\r\n")]
    public void Host_that_is_not_a_plain_authority_is_handed_to_the_HTTP_layer(string hostLine) =>
        Assert.Null(WebSocketFastPath.TryParse("GET /v1/ws HTTP/1.1\r\n" + hostLine + Rest, IPAddress.Loopback));

    /// <summary>Found by the ws-head fuzz target: these were taken by the fast path although Kestrel refuses them with 400.</summary>
    [Theory]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nUser-Agent: i\u007f\u00ff\r\n")]       // a control character in a value
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nX-Trace: a\u0000b\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nX-Trace: a\nb\r\n")]                  // a bare LF inside a line
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nX Trace: a\r\n")]                     // a name that is not a token
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nX-Trace : a\r\n")]
    [InlineData("GET /v1/ws HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n")]           // a body announced, even unparsable
    [InlineData("GET /v1/ws?a=\u0001 HTTP/1.1\r\nHost: h\r\n")]                          // a control character in the target
    [InlineData("GET /v1/ws?a=\u00e9 HTTP/1.1\r\nHost: h\r\n")]
    public void Head_the_HTTP_layer_refuses_is_not_taken(string head) =>
        Assert.Null(WebSocketFastPath.TryParse(head + Rest, IPAddress.Loopback));
}
