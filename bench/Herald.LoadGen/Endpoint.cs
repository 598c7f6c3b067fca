using System.Net;

namespace Herald.LoadGen;

/// <summary>Where the server is, how client sockets reach it, and an HTTP client for control requests (tops, publishes).</summary>
internal sealed class Endpoint : IDisposable
{
    public Endpoint(string url, Connector connector, int pollWaitSeconds = 25)
    {
        Base = new Uri(url.TrimEnd('/') + "/");
        HostPort = $"{Base.Host}:{Base.Port}";
        Server = new DnsEndPoint(Base.Host, Base.Port);
        Connector = connector;
        Client = new HttpClient(connector.CreateHandler()) { Timeout = TimeSpan.FromSeconds(60), BaseAddress = Base };
        PollWaitSeconds = pollWaitSeconds;
    }

    public Uri Base { get; }

    public string HostPort { get; }

    public DnsEndPoint Server { get; }

    public Connector Connector { get; }

    public HttpClient Client { get; }

    public int PollWaitSeconds { get; }

    /// <summary>WebSocket only: connect and send nothing, to tell the connection's cost from the session's.</summary>
    public bool NoSubscribe { get; init; }

    public Uri Uri(string pathAndQuery) => new(Base, pathAndQuery.TrimStart('/'));

    public void Dispose() => Client.Dispose();
}
