using Herald.Diagnostics;
using Herald.Http.OpenApi;
using Herald.Hub;
using Herald.Stats;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Herald.Server.Metrics;

/// <summary>
/// Exports the <c>Herald</c> meter (and the runtime's and Kestrel's) with the OpenTelemetry SDK:
/// Prometheus at <c>GET /metrics</c>, and OTLP when <c>Herald:Metrics:Otlp:Endpoint</c> is set.
/// </summary>
/// <remarks>
/// OpenTelemetry rather than prometheus-net: one SDK and one set of instrument names feed both the
/// Prometheus scrape and the OTLP push, and it reads System.Diagnostics.Metrics instruments (the
/// node's, the runtime's, Kestrel's) as they are, with nothing registered twice. Its Prometheus
/// exporter is still marked beta; the text format it writes is the stable part.
/// </remarks>
internal static class HeraldTelemetry
{
    public const string Path = "/metrics";

    /// <summary>Meters exported beside Herald's: the runtime's (GC, thread pool, CPU) and Kestrel's (connections, queues).</summary>
    internal static readonly string[] Meters = [HeraldMetrics.MeterName, "System.Runtime", "Microsoft.AspNetCore.Server.Kestrel"];

    public static void AddHeraldMetrics(this WebApplicationBuilder builder)
    {
        // Only whether OTLP is on is decided here (an exporter cannot be added later); its settings
        // come from the validated options like every other setting.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["Herald:Metrics:Otlp:Endpoint"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("herald"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters);
                // No response cache: Prometheus scrapes every 15 s or so, and a cached answer would
                // show counts up to the cache's age behind.
                metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp)
                    metrics.AddOtlpExporter();
            });

        builder.Services.AddOptions<OtlpExporterOptions>().Configure<IOptions<HeraldOptions>>((exporter, herald) =>
        {
            var settings = herald.Value.Metrics.Otlp;
            if (settings.Endpoint is { } endpoint)
                exporter.Endpoint = endpoint;
            exporter.Protocol = settings.Protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            exporter.Headers = settings.Headers;
        });
        builder.Services.AddOptions<MetricReaderOptions>().Configure<IOptions<HeraldOptions>>((reader, herald) =>
            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)herald.Value.Metrics.Otlp.Interval.TotalMilliseconds);
    }

    /// <summary>Maps <c>GET /metrics</c> behind <see cref="MetricsAccess"/> (<c>Herald:Metrics:Prometheus</c> and <c>Access</c>).</summary>
    public static void MapHeraldMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: pipeline => pipeline.Use(MetricsAccess.GateAsync), optionsName: null)
            .WithTags("Stats")
            .WithDisplayName("Metrics")
            .WithMetadata(new ApiManualOperation(
                "Metrics",
                "This node's metrics in the Prometheus text format",
                "Stats",
                "Every metric: docs/metrics.md. Who may read them: Herald:Metrics:Access.",
                [
                    new ApiManualResponse(StatusCodes.Status200OK, "The metrics (text/plain; version=0.0.4).", "text/plain"),
                    new ApiManualResponse(StatusCodes.Status401Unauthorized, "unauthorized: credentials are required.", "application/problem+json", "ProblemDetails"),
                    new ApiManualResponse(StatusCodes.Status403Forbidden, "forbidden: the credentials are not valid, or not enough.", "application/problem+json", "ProblemDetails"),
                    new ApiManualResponse(StatusCodes.Status404NotFound, "not_found: Herald:Metrics:Prometheus is off.", "application/problem+json", "ProblemDetails"),
                ]))
            .WithAuth(ApiAuth.Policy);
}
