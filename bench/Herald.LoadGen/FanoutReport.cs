using System.Globalization;

namespace Herald.LoadGen;

/// <summary>One step of a fan-out: the JSON line the scripts and charts read.</summary>
internal sealed class FanoutStep : Measurement
{
    public string Phase { get; set; } = "fanout";
    public string Target { get; set; } = "";
    public string Transport { get; set; } = "";
    public int Index { get; set; }
    public int Subscribers { get; set; }
    public int Connections { get; set; }
    public string Rate { get; set; } = "";
    public double Offered { get; set; }
    public double Seconds { get; set; }
    public long Published { get; set; }
    public double PublishedPerSecond { get; set; }
    public long PublishErrors { get; set; }

    /// <summary>Publish timestamp → HTTP answer (the publish's own share of the delivery latency).</summary>
    public double PublishAnswerP50Ms { get; set; }
    public double PublishAnswerP99Ms { get; set; }

    /// <summary>How late the generator's timer fired for a due publish (p99; excluded from every latency).</summary>
    public double TimerLateP99Ms { get; set; }
    public long Top { get; set; }
    public double PublicationsPerFrame { get; set; }
    public double FramesPerSecond { get; set; }
    public double ServerCoreBusyPercent { get; set; }
    public double GeneratorCoreBusyPercent { get; set; }
    public bool KeptUp { get; set; }

    public void AddFrames(List<FanoutShare> shares)
    {
        var frames = shares.Sum(s => s.Frames);
        PublicationsPerFrame = frames > 0 ? Math.Round((double)shares.Sum(s => s.FramePublications) / frames, 2) : 0;
        FramesPerSecond = ActiveSeconds > 0 ? Math.Round(frames / ActiveSeconds) : 0;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Target} {Transport} rate {Rate}: published {Published} ({PublishedPerSecond}/s), delivered {Deliveries}/{Expected} = {DeliveriesPerSecond}/s over {ActiveSeconds} s; "
        + $"latency p50 {LatencyP50Ms} p99 {LatencyP99Ms} p99.9 {LatencyP999Ms} max {LatencyMaxMs} ms (publish answered p50 {PublishAnswerP50Ms} p99 {PublishAnswerP99Ms} ms); {PublicationsPerFrame}/frame; "
        + $"gaps {Gaps} dups {Duplicates} missing {Missing} resets {Resets} disconnected {Disconnected} errors {PublishErrors}; "
        + $"server CPU {ServerCpuPercent} % ({ServerCpuMicrosPerDelivery} µs/delivery, core {ServerCoreBusyPercent} % busy), RSS {ServerRssMiB} MiB; "
        + $"generator CPU {GeneratorCpuPercent} % ({GeneratorCpuMicrosPerDelivery} µs/delivery; core {GeneratorCoreBusyPercent} % busy){(KeptUp ? "; kept up" : "")}");
}

/// <summary>The run's verdict: the saturation (best step that kept up) and the peak (most deliveries/s of any step, <c>max</c> included).</summary>
internal sealed class FanoutSummary
{
    public string Phase { get; set; } = "fanout-summary";
    public string Target { get; set; } = "";
    public string Transport { get; set; } = "";
    public int Subscribers { get; set; }
    public double KeepUpFraction { get; set; }
    public double SloP99Ms { get; set; }
    public double SaturationOffered { get; set; }
    public double SaturationDeliveriesPerSecond { get; set; }
    public double SaturationP99Ms { get; set; }
    public double SaturationServerCpuMicrosPerDelivery { get; set; }
    public string PeakRate { get; set; } = "";
    public double PeakDeliveriesPerSecond { get; set; }
    public double PeakP99Ms { get; set; }
    public double PeakGeneratorCpuPercent { get; set; }
    public bool Clean { get; set; }

    public static FanoutSummary Of(Target target, int subscribers, List<FanoutStep> steps, SaturationRule rule)
    {
        var summary = new FanoutSummary
        {
            Target = target.System,
            Transport = target.Transport,
            Subscribers = subscribers,
            KeepUpFraction = rule.Fraction,
            SloP99Ms = rule.P99Ms,
            Clean = steps.All(s => s.Gaps == 0 && s.Duplicates == 0 && s.Missing == 0 && s.Disconnected == 0 && s.PublishErrors == 0),
        };
        if (steps.Where(s => s.KeptUp).MaxBy(s => s.DeliveriesPerSecond) is { } best)
        {
            summary.SaturationOffered = best.Offered;
            summary.SaturationDeliveriesPerSecond = best.DeliveriesPerSecond;
            summary.SaturationP99Ms = best.LatencyP99Ms;
            summary.SaturationServerCpuMicrosPerDelivery = best.ServerCpuMicrosPerDelivery;
        }

        if (steps.MaxBy(s => s.DeliveriesPerSecond) is { } peak)
        {
            summary.PeakRate = peak.Rate;
            summary.PeakDeliveriesPerSecond = peak.DeliveriesPerSecond;
            summary.PeakP99Ms = peak.LatencyP99Ms;
            summary.PeakGeneratorCpuPercent = peak.GeneratorCpuPercent;
        }

        return summary;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Target} {Transport}, {Subscribers} subscribers: saturation {SaturationDeliveriesPerSecond}/s at {SaturationOffered} publishes/s (p99 {SaturationP99Ms} ms); "
        + $"peak {PeakDeliveriesPerSecond}/s at rate {PeakRate} (p99 {PeakP99Ms} ms, generator CPU {PeakGeneratorCpuPercent} %){(Clean ? "" : "; NOT CLEAN")}");
}
