// Charts from bench.sh's JSON lines (fanout.jsonl, longpoll.jsonl, chat.jsonl, idle.jsonl):
//   fanout-deliveries-N.png  deliveries/s vs offered publish rate, one line per system, N subscribers
//                            (the closed-loop "max" step is drawn at the rate it achieved)
//   fanout-latency-N.png     p50 / p99 / p99.9 per system at its saturation step (the best step that
//                            kept up; the peak step when none did)
//   fanout-p99-N.png         p99 latency vs offered rate, one line per system
//   chat-latency.png         p50 / p99 / p99.9 per system in the chat scenario
//   idle-memory.png          server KiB per idle connection per system (the largest run of each)
// A chart is skipped when no line feeds it.
//
// Usage: dotnet run -c Release --project bench/Herald.Charts -- <results.jsonl>... [--out docs/img]

using System.Globalization;
using System.Text.Json;
using ScottPlot;

const int Width = 900, Height = 520;

var files = new List<string>();
var outDir = "docs/img";
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length)
        outDir = args[++i];
    else if (args[i].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine("usage: Herald.Charts <results.jsonl>... [--out docs/img]");
        return 2;
    }
    else
        files.Add(args[i]);
}

var rows = new List<JsonElement>();

// ./bench.sh transports measures each technique at one fixed rate: its lines draw only the
// transport chart, never the fan-out or idle charts of a full run.
var transportRows = new List<JsonElement>();
foreach (var file in files)
{
    var into = Path.GetFileName(file).StartsWith("transports", StringComparison.Ordinal) ? transportRows : rows;
    foreach (var line in File.ReadLines(file).Where(l => l.StartsWith('{')))
    {
        try
        {
            into.Add(JsonDocument.Parse(line).RootElement.Clone());
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"{file}: a line skipped, not JSON ({e.Message})");
        }
    }
}

Directory.CreateDirectory(outDir);
var written = new List<string>();
void Save(Plot plot, string name)
{
    var path = Path.Combine(outDir, name);
    plot.SavePng(path, Width, Height);
    written.Add(path);
}

var steps = rows.Where(r => Text(r, "phase") == "fanout").ToList();
foreach (var size in steps.GroupBy(r => (int)(Math.Round(Number(r, "subscribers") / 100) * 100)))
{
    var systems = size.GroupBy(r => Text(r, "system") ?? Text(r, "target") ?? "?").ToList();
    var lines = systems.Select(g => (g.Key, g.Select(r => (X: Number(r, "offered") > 0 ? Number(r, "offered") : Number(r, "publishedPerSecond"), Y: Number(r, "deliveriesPerSecond"))).OrderBy(p => p.X).ToList())).ToList();
    Save(Lines(lines, $"Fan-out, 1 channel × {size.Key:N0} subscribers: deliveries/s vs offered rate", "offered publishes / s (max: achieved)", "deliveries / s", log: false), $"fanout-deliveries-{size.Key}.png");
    var p99 = systems.Select(g => (g.Key, g.Where(r => Number(r, "offered") > 0).Select(r => (X: Number(r, "offered"), Y: Number(r, "latencyP99Ms"))).OrderBy(p => p.X).ToList())).ToList();
    Save(Lines(p99, $"Fan-out, 1 × {size.Key:N0}: p99 publish-to-delivery latency vs offered rate", "offered publishes / s", "p99 latency (ms, log scale)", log: true), $"fanout-p99-{size.Key}.png");
    var atSaturation = systems.Select(g =>
    {
        var kept = g.Where(r => r.TryGetProperty("keptUp", out var k) && k.ValueKind == JsonValueKind.True).ToList();
        return (g.Key, (kept.Count > 0 ? kept : g.ToList()).MaxBy(r => Number(r, "deliveriesPerSecond")));
    }).ToList();
    Save(LatencyBars(atSaturation, $"Fan-out, 1 × {size.Key:N0}: latency at each system's saturation"), $"fanout-latency-{size.Key}.png");
}

var chat = rows.Where(r => Text(r, "phase") == "chat").GroupBy(r => Text(r, "system") ?? "?").Select(g => (g.Key, g.Last())).ToList();
if (chat.Count > 0)
    Save(LatencyBars(chat, "Chat, rooms × 10 members, 1 message/s each: latency over all receptions"), "chat-latency.png");

var idle = rows.Where(r => Text(r, "phase") == "idle").GroupBy(r => Text(r, "system") ?? "?")
    .Select(g => (g.Key, g.MaxBy(r => Number(r, "requested")))).ToList();
if (idle.Count > 0)
    Save(IdleBars(idle), "idle-memory.png");

// ./bench.sh transports: each technique's costs side by side (docs/transports.md).
if (transportRows.Any(r => Text(r, "phase") == "transport-wire"))
    Save(TransportBars(transportRows), "transports.png");

if (written.Count == 0)
{
    Console.Error.WriteLine("no fan-out, chat or idle lines: nothing to draw");
    return 1;
}

foreach (var path in written)
    Console.WriteLine(path);
return 0;

static Plot Lines(List<(string Label, List<(double X, double Y)> Points)> series, string title, string x, string y, bool log)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    for (var i = 0; i < series.Count; i++)
    {
        var points = series[i].Points.Where(p => p.X > 0 && (!log || p.Y > 0)).ToList();
        if (points.Count == 0)
            continue;
        var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => log ? Math.Log10(p.Y) : p.Y).ToArray());
        scatter.LegendText = series[i].Label;
        scatter.Color = palette.GetColor(i);
        scatter.LineWidth = 2;
        scatter.MarkerSize = 7;
    }

    plot.Title(title);
    plot.XLabel(x);
    plot.YLabel(y);
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Rate };
    // Log scale: the values are log10(ms), ticked at whole powers of ten and labelled back in ms.
    plot.Axes.Left.TickGenerator = log
        ? new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Ms(Math.Pow(10, v)),
        }
        : new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Rate };
    plot.ShowLegend(Alignment.UpperLeft);
    return plot;
}

static Plot LatencyBars(List<(string Label, JsonElement Row)> rows, string title)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    string[] names = ["p50", "p99", "p99.9"];
    string[] fields = ["latencyP50Ms", "latencyP99Ms", "latencyP999Ms"];
    const int groupWidth = 4; // three bars and a gap
    var bars = new List<Bar>();
    for (var i = 0; i < rows.Count; i++)
    {
        for (var s = 0; s < fields.Length; s++)
        {
            var value = Number(rows[i].Row, fields[s]);
            bars.Add(new Bar { Position = i * groupWidth + s, Value = value, FillColor = palette.GetColor(s), Label = Ms(value) });
        }
    }

    plot.Add.Bars(bars).ValueLabelStyle.FontSize = 11;
    for (var s = 0; s < names.Length; s++)
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = names[s], FillColor = palette.GetColor(s) });
    plot.ShowLegend(Alignment.UpperLeft);
    Categories(plot, rows.Select(r => r.Label).ToList(), 1, groupWidth);
    plot.Title(title);
    plot.YLabel("latency (ms)");
    plot.Axes.Margins(bottom: 0, top: 0.2);
    return plot;
}

static Plot IdleBars(List<(string Label, JsonElement Row)> rows)
{
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    var bars = rows.Select((r, i) => new Bar
    {
        Position = i,
        Value = Number(r.Row, "kiBPerConnection"),
        FillColor = palette.GetColor(i),
        Label = Number(r.Row, "kiBPerConnection").ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
    }).ToList();
    plot.Add.Bars(bars).ValueLabelStyle.FontSize = 13;
    Categories(plot, rows.Select(r => r.Label).ToList(), 0, 1);
    var connections = rows.Select(r => Number(r.Row, "requested")).Distinct().ToList();
    plot.Title("Idle connections: server memory per connection (RSS after an induced GC)"
        + (connections.Count == 1 ? $"\n{connections[0]:N0} connections" : ""));
    plot.YLabel("KiB per idle connection");
    plot.Axes.Margins(bottom: 0, top: 0.15);
    return plot;
}

static Plot TransportBars(List<JsonElement> rows)
{
    string[] techniques = ["ws", "sse", "stream", "longpoll", "shortpoll"];
    string[] names = ["idle KiB / connection", "server µs / delivery", "p99 ms at the fixed rate", "bytes / message ÷ 10"];
    JsonElement? Last(string phase, string system) =>
        rows.LastOrDefault(r => Text(r, "phase") == phase && Text(r, "system") == system) is { ValueKind: JsonValueKind.Object } row ? row : null;
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    const int groupWidth = 5;
    var bars = new List<Bar>();
    for (var i = 0; i < techniques.Length; i++)
    {
        var system = "herald-" + techniques[i];
        var fanout = Last("fanout", system);
        var poll = Last("shortpoll", system);
        var wire = rows.LastOrDefault(r => Text(r, "phase") == "transport-wire" && Text(r, "technique") == techniques[i]);
        double[] values =
        [
            Last("idle", system) is { } idle ? Number(idle, "kiBPerConnection") : 0,
            fanout is { } f ? Number(f, "serverCpuMicrosPerDelivery") : 0,
            fanout is { } g ? Number(g, "latencyP99Ms") : poll is { } p ? Number(p, "latencyP99Ms") : 0,
            wire.ValueKind == JsonValueKind.Object ? Number(wire, "bytesPerMessage") / 10 : 0,
        ];
        for (var m = 0; m < values.Length; m++)
            bars.Add(new Bar { Position = i * groupWidth + m, Value = values[m], FillColor = palette.GetColor(m), Label = values[m] > 0 ? Ms(values[m]) : "" });
    }

    plot.Add.Bars(bars).ValueLabelStyle.FontSize = 10;
    for (var m = 0; m < names.Length; m++)
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = names[m], FillColor = palette.GetColor(m) });
    plot.ShowLegend(Alignment.UpperLeft);
    Categories(plot, ["WebSocket", "SSE", "HTTP streaming", "long polling", "short polling"], 1.5, groupWidth);
    plot.Title("Each technique's cost on the same machine (./bench.sh transports)");
    plot.Axes.Margins(bottom: 0, top: 0.2);
    return plot;
}

// Category names under the bars (or bar groups).
static void Categories(Plot plot, List<string> labels, double offset, double step)
{
    var ticks = new ScottPlot.TickGenerators.NumericManual();
    for (var i = 0; i < labels.Count; i++)
        ticks.AddMajor(offset + i * step, labels[i]);
    plot.Axes.Bottom.TickGenerator = ticks;
    plot.Axes.Bottom.MajorTickStyle.Length = 0;
    plot.HideGrid();
    plot.Grid.YAxisStyle.IsVisible = true;
}

static string Rate(double value) => value switch
{
    >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " M",
    >= 1e3 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " k",
    _ => value.ToString("0.#", CultureInfo.InvariantCulture),
};

static string Ms(double value) => value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);

static string? Text(JsonElement e, string name) =>
    e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

static double Number(JsonElement e, string name) =>
    e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
