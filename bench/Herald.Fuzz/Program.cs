using System.Diagnostics;
using Herald.Fuzz;
using Herald.Fuzz.Targets;
using SharpFuzz;

// Herald.Fuzz list                        the targets
// Herald.Fuzz <target>                    run one target under afl-fuzz (bench/fuzz/fuzz.sh)
// Herald.Fuzz replay <target> <dir|file>  every file through the target, in-process
// Herald.Fuzz replay-all <corpus root>    every <root>/<target>/ folder (./test.sh)
IFuzzTarget[] targets =
[
    new CursorTarget(),
    new LastEventIdTarget(),
    new WebSocketHeadTarget(),
    new WebSocketMessageTarget(),
    new WebSocketFramesTarget(),
    new PublishBodyTarget(),
    new JsonDataTarget(),
    new WebhookSignatureTarget(),
    new WebhookBodyTarget(),
    new ChannelNameTarget(),
    new ChannelTemplateTarget(),
    new EncodersTarget(),
];

IFuzzTarget? Find(string name) => targets.FirstOrDefault(t => t.Name == name);

switch (args)
{
    case ["list"]:
        foreach (var target in targets)
            Console.WriteLine($"{target.Name,-20} {target.Description}");
        return 0;
    case ["replay", var name, var path] when Find(name) is { } target:
        return Replay.Run(target, path) ? 0 : 1;
    case ["replay-all", var root]:
        return Replay.RunAll(targets, root) ? 0 : 1;
    case [var name] when Find(name) is { } target:
        // Persistent mode: one process runs input after input; AFL's timeout catches hangs.
        Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    default:
        Console.Error.WriteLine("usage: Herald.Fuzz list | <target> | replay <target> <dir|file> | replay-all <corpus root>");
        Console.Error.WriteLine("targets: " + string.Join(", ", targets.Select(t => t.Name)));
        return 2;
}

/// <summary>Runs saved inputs through their targets in-process: any exception or a slow input fails.</summary>
internal static class Replay
{
    /// <summary>5 s for one input: every target answers in microseconds; this only catches a hang, not a slow machine.</summary>
    private static readonly TimeSpan s_slow = TimeSpan.FromSeconds(5);

    public static bool RunAll(IReadOnlyList<IFuzzTarget> targets, string root)
    {
        var ok = true;
        foreach (var directory in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(directory);
            var target = targets.FirstOrDefault(t => t.Name == name);
            if (target is null)
            {
                Console.Error.WriteLine($"{name}: no such target (corpus folder {directory})");
                ok = false;
                continue;
            }

            ok &= Run(target, directory);
        }

        var missing = targets.Where(t => !Directory.Exists(Path.Combine(root, t.Name))).Select(t => t.Name).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine($"no corpus for: {string.Join(", ", missing)}");
            ok = false;
        }

        return ok;
    }

    public static bool Run(IFuzzTarget target, string path)
    {
        var files = File.Exists(path) ? [path] : Directory.GetFiles(path).Order(StringComparer.Ordinal).ToArray();
        var failed = 0;
        var clock = Stopwatch.StartNew();
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            var started = clock.Elapsed;
            try
            {
                target.Run(input);
            }
#pragma warning disable CA1031 // Any exception is the finding: it is reported with the input's name.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed++;
                Console.Error.WriteLine($"{target.Name}: {file}: {e.GetType().Name}: {e.Message}");
                Console.Error.WriteLine(e.StackTrace);
                continue;
            }

            if (clock.Elapsed - started > s_slow)
            {
                failed++;
                Console.Error.WriteLine($"{target.Name}: {file}: took {(clock.Elapsed - started).TotalSeconds:F1} s (a hang?)");
            }
        }

        Console.WriteLine($"replay {target.Name}: {files.Length} inputs, {failed} failed ({clock.Elapsed.TotalMilliseconds:F0} ms)");
        return failed == 0 && files.Length > 0;
    }
}
