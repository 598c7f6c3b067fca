// Charts from the load generator's JSON lines (bench/loadgen.sh, bench/compare.sh, OUT=…jsonl):
//   fanout-deliveries.png  deliveries/s per system/transport (and deliveries/s vs offered rate when a
//                          system was run at several numeric rates)
//   fanout-latency.png     p50 / p99 / p99.9 delivery latency per system/transport
//   idle-memory.png        server KiB per idle connection per system/transport
// A chart is skipped when no row feeds it. When one system/transport appears more than once (at the
// same rate), the last row given wins.
//
// Usage: dotnet run -c Release --project bench/Herald.Charts -- <results.jsonl>... [--out docs/img]

using System.Globalization;
using System.Text.Json;
using ScottPlot;

const int Width = 800, Height = 500;

var files = new List<string>();
var outDir = "docs/img";
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length)
        outDir = args[++i];
    else if (args[i] is "-h" or "--help")
    {
        Console.WriteLine("usage: Herald.Charts <results.jsonl>... [--out docs/img]");
        return 0;
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine($"unknown option '{args[i]}'");
        return 2;
    }
    else
        files.Add(args[i]);
}

if (files.Count == 0)
{
    Console.Error.WriteLine("usage: Herald.Charts <results.jsonl>... [--out docs/img]");
    return 2;
}

var rows = new List<Row>();
foreach (var file in files)
{
    if (!File.Exists(file))
    {
        Console.Error.WriteLine($"no such file: {file}");
        return 1;
    }

    var lineNumber = 0;
    foreach (var line in File.ReadLines(file))
    {
        lineNumber++;
        if (string.IsNullOrWhiteSpace(line))
            continue;
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind == JsonValueKind.Object && Row.From(json.RootElement) is { } row)
                rows.Add(row);
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"{file}:{lineNumber}: skipped, not JSON ({e.Message})");
        }
    }
}

Directory.CreateDirectory(outDir);
var written = new List<string>();
var fanout = rows.Where(r => r.Phase == "fanout").ToList();
var idle = rows.Where(r => r.Phase == "idle").ToList();

if (fanout.Count > 0)
{
    // One row per system/transport for the bars: the full-rate ("max") run, else the highest offered rate.
    var headline = fanout.GroupBy(r => r.Label)
        .Select(g => g.Where(r => r.OfferedRate is null).LastOrDefault()
            ?? g.OrderBy(r => r.OfferedRate).ThenBy(r => r.Index).Last())
        .OrderBy(r => fanout.First(f => f.Label == r.Label).Index)
        .ToList();
    var sweeps = fanout.Where(r => r.OfferedRate is not null).GroupBy(r => r.Label)
        .Select(g => (Label: g.Key, Points: g.GroupBy(r => r.OfferedRate!.Value)
            .Select(p => (Rate: p.Key, Deliveries: p.Last().DeliveriesPerSecond)).OrderBy(p => p.Rate).ToList()))
        .Where(s => s.Points.Count > 1)
        .ToList();

    var deliveries = DeliveriesBars(headline);
    var path = Path.Combine(outDir, "fanout-deliveries.png");
    if (sweeps.Count == 0)
        deliveries.SavePng(path, Width, Height);
    else
    {
        var multiplot = new Multiplot(deliveries); // starts with the bar chart as its only subplot
        multiplot.AddPlot(DeliveriesVsRate(sweeps));
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        multiplot.SavePng(path, Width, Height * 2);
    }

    written.Add(path);

    path = Path.Combine(outDir, "fanout-latency.png");
    LatencyBars(headline).SavePng(path, Width, Height);
    written.Add(path);
}

if (idle.Count > 0)
{
    var latest = idle.GroupBy(r => r.Label).Select(g => g.Last()).OrderBy(r => idle.First(f => f.Label == r.Label).Index).ToList();
    var path = Path.Combine(outDir, "idle-memory.png");
    IdleBars(latest).SavePng(path, Width, Height);
    written.Add(path);
}

if (written.Count == 0)
{
    Console.Error.WriteLine($"no fan-out or idle rows in {string.Join(", ", files)}: nothing to draw");
    return 1;
}

foreach (var path in written)
    Console.WriteLine(path);
return 0;

static Plot DeliveriesBars(List<Row> rows)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    var bars = rows.Select((r, i) => new Bar
    {
        Position = i,
        Value = r.DeliveriesPerSecond,
        FillColor = palette.GetColor(i),
        Label = Rate(r.DeliveriesPerSecond),
    }).ToList();
    var barPlot = plot.Add.Bars(bars);
    barPlot.ValueLabelStyle.FontSize = 14;
    barPlot.ValueLabelStyle.Bold = true;
    Categories(plot, rows.Select(r => r.Label).ToList(), 0, 1);
    plot.Title("Fan-out: deliveries per second" + Subtitle(rows));
    plot.YLabel("deliveries / s");
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Rate };
    plot.Axes.Margins(bottom: 0, top: 0.15);
    return plot;
}

static Plot DeliveriesVsRate(List<(string Label, List<(double Rate, double Deliveries)> Points)> sweeps)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    for (var i = 0; i < sweeps.Count; i++)
    {
        var (label, points) = sweeps[i];
        var scatter = plot.Add.Scatter(points.Select(p => p.Rate).ToArray(), points.Select(p => p.Deliveries).ToArray());
        scatter.LegendText = label.Replace('\n', ' ');
        scatter.Color = palette.GetColor(i);
        scatter.LineWidth = 2;
        scatter.MarkerSize = 8;
    }

    plot.Title("Fan-out: deliveries per second vs offered publish rate");
    plot.XLabel("offered publish rate (publications / s)");
    plot.YLabel("deliveries / s");
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Rate };
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Rate };
    plot.ShowLegend(Alignment.UpperLeft);
    return plot;
}

static Plot LatencyBars(List<Row> rows)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    (string Name, Func<Row, double> Value)[] series =
        [("p50", r => r.LatencyP50Ms), ("p99", r => r.LatencyP99Ms), ("p99.9", r => r.LatencyP999Ms)];
    const int groupWidth = 4; // three bars and a gap
    var bars = new List<Bar>();
    for (var i = 0; i < rows.Count; i++)
    {
        for (var s = 0; s < series.Length; s++)
        {
            var value = series[s].Value(rows[i]);
            bars.Add(new Bar
            {
                Position = i * groupWidth + s,
                Value = value,
                FillColor = palette.GetColor(s),
                Label = Ms(value),
            });
        }
    }

    var barPlot = plot.Add.Bars(bars);
    barPlot.ValueLabelStyle.FontSize = 12;
    for (var s = 0; s < series.Length; s++)
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name + " latency", FillColor = palette.GetColor(s) });
    plot.ShowLegend(Alignment.UpperLeft);
    Categories(plot, rows.Select(r => r.Label).ToList(), 1, groupWidth);
    plot.Title("Fan-out: publish-to-delivery latency" + Subtitle(rows));
    plot.YLabel("latency (ms)");
    plot.Axes.Margins(bottom: 0, top: 0.2);
    return plot;
}

static Plot IdleBars(List<Row> rows)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    var bars = rows.Select((r, i) => new Bar
    {
        Position = i,
        Value = r.KiBPerConnection,
        FillColor = palette.GetColor(i),
        Label = r.KiBPerConnection.ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
    }).ToList();
    var barPlot = plot.Add.Bars(bars);
    barPlot.ValueLabelStyle.FontSize = 14;
    barPlot.ValueLabelStyle.Bold = true;
    Categories(plot, rows.Select(r => r.Label).ToList(), 0, 1);
    var connections = rows.Select(r => r.Connections).Where(c => c > 0).Distinct().ToList();
    plot.Title("Idle connections: server memory per connection"
        + (connections.Count == 1 ? $"\n{connections[0]:N0} connections, RSS after an induced GC" : ""));
    plot.YLabel("KiB per idle connection");
    plot.Axes.Margins(bottom: 0, top: 0.15);
    return plot;
}

// Category names under the bars (or bar groups): one tick per category, long names on two lines.
static void Categories(Plot plot, List<string> labels, double offset, double step)
{
    var ticks = new ScottPlot.TickGenerators.NumericManual();
    for (var i = 0; i < labels.Count; i++)
        ticks.AddMajor(offset + i * step, labels[i]);
    plot.Axes.Bottom.TickGenerator = ticks;
    plot.Axes.Bottom.MajorTickStyle.Length = 0;
    plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
    plot.HideGrid();
    plot.Grid.YAxisStyle.IsVisible = true;
}

static string Subtitle(List<Row> rows)
{
    var subscribers = rows.Select(r => r.Subscribers).Where(s => s > 0).Distinct().ToList();
    var rates = rows.Select(r => r.Rate).Distinct().ToList();
    var parts = new List<string>();
    if (subscribers.Count == 1)
        parts.Add($"{subscribers[0]:N0} subscribers");
    if (rates is ["max"])
        parts.Add("publisher at full rate");
    return parts.Count > 0 ? "\n" + string.Join(", ", parts) : "";
}

static string Rate(double value) => value switch
{
    >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " M",
    >= 1e3 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " k",
    _ => value.ToString("0.#", CultureInfo.InvariantCulture),
};

static string Ms(double value) => value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);

/// <summary>One JSON line of the load generator, reduced to what the charts use.</summary>
internal sealed record Row(
    int Index,
    string Phase,
    string Label,
    string Rate,
    double? OfferedRate,
    int Subscribers,
    int Connections,
    double DeliveriesPerSecond,
    double LatencyP50Ms,
    double LatencyP99Ms,
    double LatencyP999Ms,
    double KiBPerConnection)
{
    private static int count;

    public static Row? From(JsonElement e)
    {
        var phase = Text(e, "phase")
            ?? (e.TryGetProperty("deliveriesPerSecond", out _) ? "fanout" : e.TryGetProperty("kiBPerConnection", out _) ? "idle" : null);
        if (phase is not ("fanout" or "idle"))
            return null;
        var transport = Text(e, "transport") ?? "?";
        var label = Text(e, "system") is { Length: > 0 } system ? system : $"Herald ({TransportName(transport)})";
        var rate = Text(e, "rate") ?? (e.TryGetProperty("rate", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble().ToString(CultureInfo.InvariantCulture) : "max");
        double? offered = double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
        return new Row(count++, phase, Wrap(label), rate, offered,
            (int)Number(e, "acked"), (int)Number(e, "requested"),
            Number(e, "deliveriesPerSecond"), Number(e, "latencyP50Ms"), Number(e, "latencyP99Ms"), Number(e, "latencyP999Ms"),
            Number(e, "kiBPerConnection"));
    }

    private static string TransportName(string transport) => transport switch
    {
        "ws" => "WebSocket",
        "sse" => "SSE",
        "stream" => "HTTP stream",
        "longpoll" => "long polling",
        _ => transport,
    };

    // "ASP.NET Core SignalR (JSON, WebSocket)" → two lines, so that several names fit under the bars.
    private static string Wrap(string label)
    {
        var paren = label.IndexOf(" (", StringComparison.Ordinal);
        return paren > 0 && label.Length > 20 ? label[..paren] + "\n" + label[(paren + 1)..] : label;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
