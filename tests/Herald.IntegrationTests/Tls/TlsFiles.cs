using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Herald.Server.Tls;

namespace Herald.IntegrationTests.Tls;

/// <summary>A development certificate written as herald dev-cert writes it, and clients that trust exactly it.</summary>
internal sealed class TlsFiles : IDisposable
{
    private TlsFiles(string directory, X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        Directory = directory;
        Certificate = certificate;
        CertificatePath = certificatePath;
        KeyPath = keyPath;
    }

    public string Directory { get; }

    public X509Certificate2 Certificate { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    /// <summary>The settings of a server on 127.0.0.1:0 with this certificate.</summary>
    public Dictionary<string, string?> Settings => new(StringComparer.OrdinalIgnoreCase)
    {
        ["urls"] = "https://127.0.0.1:0",
        ["Herald:Tls:CertificatePath"] = CertificatePath,
        ["Herald:Tls:KeyPath"] = KeyPath,
    };

    public static TlsFiles Create()
    {
        var directory = TempDirectory.Create();
        var certificate = DevCertificate.Create(DateTimeOffset.UtcNow);
        var (certificatePath, keyPath) = DevCertificate.Write(certificate, directory);
        return new TlsFiles(directory, certificate, certificatePath, keyPath);
    }

    /// <summary>A handler that trusts this certificate alone; <paramref name="connections"/> counts the TCP connections it opens.</summary>
    public SocketsHttpHandler Handler(StrongBox<int>? connections = null)
    {
        var thumbprint = Certificate.GetCertHashString();
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == thumbprint,
            },
        };
        if (connections is not null)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections.Value);
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            };
        }

        return handler;
    }

    /// <summary>An HttpClient speaking exactly <paramref name="version"/> to <paramref name="server"/>.</summary>
    public static HttpClient Client(SocketsHttpHandler handler, TestServer server, Version version) => new(handler)
    {
        BaseAddress = server.BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestVersion = version,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestServer.ApiKey) },
    };

    /// <summary>Opens <c>/v1/ws</c> with exactly <paramref name="version"/> (2.0: RFC 8441 extended CONNECT).</summary>
    public static async Task<ClientWebSocket> ConnectWebSocketAsync(HttpMessageInvoker invoker, TestServer server, Version version)
    {
        var socket = new ClientWebSocket();
        socket.Options.HttpVersion = version;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + TestServer.ApiKey);
        var uri = new Uri(server.BaseAddress, "v1/ws");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new UriBuilder(uri) { Scheme = "wss" }.Uri, invoker, timeout.Token);
        return socket;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        TempDirectory.Delete(Directory);
    }
}
