using System.Net.Sockets;
using Herald.Engine;

namespace Herald.Server.Commands;

/// <summary>
/// How <c>serve</c> reports a start that failed: one line per problem on stderr, each naming what
/// is wrong, then a summary line; no stack trace, since the cause is the settings or the machine
/// (a port in use, a data directory held by another herald), not the code.
/// </summary>
internal static class StartFailure
{
    public static int Report(IReadOnlyList<string> problems, int exitCode)
    {
        foreach (var problem in problems)
            Console.Error.WriteLine($"herald: {problem}");
        Console.Error.WriteLine(problems.Count == 1
            ? "herald: the server did not start."
            : $"herald: {problems.Count} problems; the server did not start.");
        return exitCode;
    }

    /// <summary>The failures of the machine or the settings that a start can meet; anything else is a bug and keeps its stack trace.</summary>
    public static bool IsExpected(Exception e) =>
        e is IOException or SocketException or UnauthorizedAccessException or InvalidOperationException or EngineUnavailableException;

    /// <summary>The exception's message followed by those of its causes that add something.</summary>
    public static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            if (!parts.Any(p => p.Contains(current.Message.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)))
                parts.Add(current.Message.TrimEnd('.'));
        }

        return string.Join(": ", parts) + ".";
    }
}
