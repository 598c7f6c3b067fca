using Herald.Channels;

namespace Herald.Stats;

/// <summary>
/// Export of the <c>Herald</c> meter (docs/metrics.md): the Prometheus scraping endpoint
/// <c>GET /metrics</c> and an optional OTLP push; bound from <c>Herald:Metrics</c>.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>Serve <c>GET /metrics</c> in the Prometheus text format.</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// Who may scrape <c>/metrics</c>. <see cref="Access.ServerOnly"/> by default, like the stats:
    /// Prometheus sends the API key as <c>authorization: {credentials: …}</c>. A setting of its own
    /// (not <c>Herald:Stats:Access</c>) because the two are opened to different readers: the metrics
    /// name no channel, so a scraper on a private network may read them anonymously while the
    /// stats, which name channels (and so people), stay closed — or the dashboard is opened to
    /// users while scrapers keep using a key.
    /// </summary>
    public Access Access { get; set; } = Access.ServerOnly;

    /// <summary>Push to an OpenTelemetry collector as well; off while <see cref="OtlpOptions.Endpoint"/> is not set.</summary>
    public OtlpOptions Otlp { get; set; } = new();

    internal IEnumerable<string> Validate()
    {
        if (Otlp.Endpoint is { } endpoint && (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)))
            yield return "Herald:Metrics:Otlp:Endpoint must be an absolute http(s) URL (e.g. http://collector:4317).";
        if (Otlp.Protocol is not ("grpc" or "http/protobuf"))
            yield return "Herald:Metrics:Otlp:Protocol must be 'grpc' or 'http/protobuf'.";
        if (Otlp.Interval < TimeSpan.FromSeconds(1) || Otlp.Interval > TimeSpan.FromHours(1))
            yield return "Herald:Metrics:Otlp:Interval must be from 00:00:01 to 01:00:00.";
    }
}

/// <summary>The OTLP push of the metrics (<c>Herald:Metrics:Otlp</c>).</summary>
public sealed class OtlpOptions
{
    /// <summary>The collector, e.g. <c>http://collector:4317</c> (gRPC) or <c>http://collector:4318/v1/metrics</c> (HTTP).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary><c>grpc</c> (port 4317) or <c>http/protobuf</c> (port 4318).</summary>
    public string Protocol { get; set; } = "grpc";

    /// <summary>How often the metrics are pushed. 15 s: Prometheus' common scrape interval, so both views have one resolution.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Extra request headers, as <c>key=value,key2=value2</c> (a collector's API key).</summary>
    public string? Headers { get; set; }
}
