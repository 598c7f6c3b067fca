using System.Diagnostics;

namespace Herald.LoadGen;

/// <summary>
/// Generator processes started by this one (<c>--processes K</c>), each holding a share of the
/// connections: one process stays under the 20,000 open files per process. They talk over their
/// standard streams: a child prints <c>READY</c>/<c>OPEN</c> lines and one <c>RESULT {json}</c>
/// line; the parent answers with <c>go</c> and <c>stop</c> lines on its stdin.
/// </summary>
internal sealed class Child : IDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _lines = new();
    private readonly SemaphoreSlim _available = new(0);

    private Child(Process process)
    {
        _process = process;
        _ = Task.Run(PumpAsync);
    }

    public static Child Start(IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // Receives complete on the socket engine's thread, not a thread-pool hop away: the generator's
        // receive path is then one recv and the parse (see Wire/Connection.cs).
        info.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        // Idle thread-pool workers would spin (sched_yield) on the generator's one core looking for work.
        info.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";

        // Under 'dotnet Herald.LoadGen.dll' the process path is the dotnet host: pass the assembly again.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            info.ArgumentList.Add(typeof(Child).Assembly.Location);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        return new Child(Process.Start(info)!);
    }

    public static List<string> ChildArgs(Options options, string command, int index, int count, IReadOnlyDictionary<string, string?> extra)
    {
        var overrides = new Dictionary<string, string?>(extra)
        {
            ["child"] = null,
            ["child-index"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["processes"] = "1",
        };
        return [command, .. options.With(overrides)];
    }

    /// <summary>The next line that starts with <paramref name="prefix"/> (other lines are skipped), or null when the child exited.</summary>
    public async Task<string?> WaitForAsync(string prefix, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            try
            {
                await _available.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"A generator process sent no '{prefix}' line within {timeout.TotalSeconds} s.");
            }

            string line;
            lock (_lines)
                line = _lines.Dequeue();
            if (line.Length == 0 && _process.HasExited)
                return null;
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return line[prefix.Length..].Trim();
        }
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public async Task ExitAsync()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    private async Task PumpAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
            Enqueue(line);
        Enqueue(string.Empty);
    }

    private void Enqueue(string line)
    {
        lock (_lines)
            _lines.Enqueue(line);
        _available.Release();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
        _available.Dispose();
    }
}
